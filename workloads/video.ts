// video: nginx in the container serving an H.264 720p video like the paper's
// Table I; the client on the controller holds one connection through the
// migration (CRIU --tcp-established keeps it) and checks every byte against
// the file: a DASH-like player fetching half-second segments, or a
// progressive download reading one GET of the whole file at the video's
// rate, its socket full at the freeze.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Static, Type } from '@sinclair/typebox';
import type { SshConnection } from '../common/ssh/transport.js';
import { countReading } from './blank.js';
import { putInRootfs } from './rootfs.js';
import type { Workload } from './types.js';
import { ensureVideo, type VideoSpec } from './video-file.js';
import { startProgressiveClient } from './progressive-client.js';
import { startPlayer } from './video-client.js';

export const VideoParams = Type.Object(
  {
    /** 442 s in the paper (93.5 MB); a short one for tests. */
    durationS: Type.Integer({ minimum: 5, maximum: 3600 }),
    bitrateKbps: Type.Integer({ minimum: 100, maximum: 20_000 }),
    height: Type.Union([Type.Literal(360), Type.Literal(480), Type.Literal(720), Type.Literal(1080)]),
    /** Seconds of video the player buffers at most. */
    playerBufferS: Type.Number({ minimum: 0.5, maximum: 60 }),
    /** The client: `segments` (Range requests of half a second, a small buffer) or `progressive` (one GET, read at the bit rate). */
    client: Type.Union([Type.Literal('segments'), Type.Literal('progressive')]),
  },
  { additionalProperties: false },
);
export type VideoParams = Static<typeof VideoParams>;

export const VIDEO_PATH = '/video.mp4';
const WEB_ROOT = ['srv', 'followme'];

function spec(p: VideoParams): VideoSpec {
  return { durationS: p.durationS, bitrateKbps: p.bitrateKbps, height: p.height };
}

async function install(node: SshConnection, rootfs: string, p: VideoParams, log: (l: string) => void): Promise<void> {
  const video = await ensureVideo(spec(p), log);
  const path = await putInRootfs(node, rootfs, WEB_ROOT, VIDEO_PATH.slice(1), createReadStream(video.path), { timeoutMs: 600_000 });
  const r = await node.check(['stat', '-c', '%s', path]);
  if (Number(r.stdout.trim()) !== video.bytes) throw new Error(`${node.target.node}: the video arrived with ${r.stdout.trim()} bytes, not ${video.bytes}`);
}

export const video: Workload<VideoParams> = {
  name: 'video',
  summary: 'nginx serving an H.264 720p video (Table I) to a player on the controller over one connection',
  template: {
    packages: ['busybox', 'iproute2', 'nginx'],
    files: [
      { from: 'followme-init', to: '/usr/local/sbin/followme-init', mode: 0o755 },
      { from: 'nginx.conf', to: '/etc/followme/nginx.conf', mode: 0o644 },
    ],
  },
  params: VideoParams,
  defaults: { durationS: 442, bitrateKbps: 1560, height: 720, playerBufferS: 4, client: 'segments' },
  service: { port: 80, path: '/probe' },
  install,
  readState: countReading,
  async startClient(ip, p, limits) {
    // A cache hit by now: install made it.
    const file = await readFile((await ensureVideo(spec(p))).path);
    const common = { ip, port: 80, path: VIDEO_PATH, file, durationS: p.durationS, maxMs: limits.maxMs };
    return p.client === 'progressive' ? startProgressiveClient(common) : startPlayer({ ...common, bufferS: p.playerBufferS });
  },
};
