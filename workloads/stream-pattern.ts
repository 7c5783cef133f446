// The byte pattern of the tcp workload's streams, as guest/tcp/streams.py
// makes it: the stream's own offsets, the 8-byte big-endian word k holding
// k. Any byte skipped, repeated or changed lands on a word that says
// another offset.

/** The pattern's bytes [offset, offset + length). */
export function patternBytes(offset: number, length: number): Buffer {
  const first = Math.floor(offset / 8);
  const words = Math.ceil((offset + length) / 8) - first;
  const buf = Buffer.alloc(words * 8);
  for (let i = 0; i < words; i++) {
    const k = first + i;
    buf.writeUInt32BE(Math.floor(k / 2 ** 32), i * 8);
    buf.writeUInt32BE(k >>> 0, i * 8 + 4);
  }
  const skip = offset - first * 8;
  return buf.subarray(skip, skip + length);
}
