// Checks a byte stream against what was sent: each chunk a client receives
// is compared with the file at the same offset, so a stream that skipped,
// repeated or changed a byte is caught at the first wrong byte, with where
// it was. Counting bytes cannot tell these apart from a good stream.

export interface StreamMismatch {
  /** Offset in the file of the first byte that differs (or lies past its end). */
  offset: number;
  got: number;
  expected: number | undefined;
}

/** The first difference between `chunk` and `file` from `offset`, or undefined when they agree. */
export function firstMismatch(file: Uint8Array, offset: number, chunk: Uint8Array): StreamMismatch | undefined {
  const expected = file.subarray(offset, offset + chunk.length);
  if (expected.length === chunk.length && Buffer.compare(expected, chunk) === 0) return undefined;
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] !== expected[i]) return { offset: offset + i, got: chunk[i]!, expected: expected[i] };
  }
  return { offset: offset + expected.length, got: chunk[expected.length]!, expected: undefined };
}

const hex = (b: number | undefined) => (b === undefined ? 'end of file' : `0x${b.toString(16).padStart(2, '0')}`);

export function describeMismatch(m: StreamMismatch, what: string): string {
  return `byte ${m.offset} of ${what} is ${hex(m.got)}, not ${hex(m.expected)}: the stream skipped, repeated or changed data`;
}
