// The video of the paper's Table I (H.264, 720p, 1,560 kbit/s), generated
// offline with ffmpeg from Debian's archive (a test pattern and a tone) and
// cached outside the work tree, keyed by what makes it: its parameters and
// the ffmpeg that encoded it. The 442 s original is 93.5 MB; tests use a
// short one.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FollowmeError } from '../common/errors.js';
import { runLocal } from '../common/exec.js';
import { cacheDir } from '../common/paths.js';

export interface VideoSpec {
  durationS: number;
  /** The video stream's bit rate (Table I); AAC audio at 128 kbit/s comes on top, as in the paper's file size. */
  bitrateKbps: number;
  height: 720 | 1080 | 480 | 360;
}

export interface VideoFile {
  path: string;
  bytes: number;
  durationS: number;
  key: string;
}

const AUDIO_KBPS = 128;
const FPS = 25;
/** Bump when the encoding below changes. */
const ENCODING_VERSION = 1;

export function ffmpegArgs(spec: VideoSpec, out: string): string[] {
  const width = Math.round((spec.height * 16) / 9 / 2) * 2;
  const v = `${spec.bitrateKbps}k`;
  return [
    'ffmpeg',
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${spec.height}:rate=${FPS}:duration=${spec.durationS}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${spec.durationS}`,
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-pix_fmt',
    'yuv420p',
    // Constant bit rate: a test pattern is cheap to encode and would come out far below Table I's rate.
    '-b:v',
    v,
    '-minrate',
    v,
    '-maxrate',
    v,
    '-bufsize',
    `${2 * spec.bitrateKbps}k`,
    '-x264-params',
    'nal-hrd=cbr:force-cfr=1',
    '-c:a',
    'aac',
    '-b:a',
    `${AUDIO_KBPS}k`,
    '-movflags',
    '+faststart',
    '-y',
    out,
  ];
}

async function ffmpegVersion(): Promise<string> {
  try {
    return (await runLocal(['ffmpeg', '-hide_banner', '-version'], { timeoutMs: 30_000 })).stdout.split('\n')[0] ?? '';
  } catch (e) {
    throw new FollowmeError(`the video workload needs ffmpeg on the controller (provision/setup-host.sh installs it): ${(e as Error).message}`, { cause: e });
  }
}

/** The cached video for `spec`, encoded first on a miss (about a minute for the 442 s one). */
export async function ensureVideo(spec: VideoSpec, log: (line: string) => void = () => {}): Promise<VideoFile> {
  const version = await ffmpegVersion();
  const key = createHash('sha256').update(JSON.stringify({ ENCODING_VERSION, spec, version })).digest('hex');
  const dir = join(cacheDir(), 'videos');
  const path = join(dir, `${key}.mp4`);
  const meta = join(dir, `${key}.json`);
  if (existsSync(meta) && existsSync(path)) return JSON.parse(await readFile(meta, 'utf8')) as VideoFile;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const partial = join(dir, `${key}.partial-${process.pid}.mp4`);
  log(`video ${key.slice(0, 12)}: encoding ${spec.durationS} s at ${spec.height}p, ${spec.bitrateKbps} kbit/s (cached in ${dir})`);
  const started = Date.now();
  try {
    await runLocal(ffmpegArgs(spec, partial), { timeoutMs: 30 * 60_000 });
    await rename(partial, path);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
  const file: VideoFile = { path, bytes: statSync(path).size, durationS: spec.durationS, key };
  await writeFile(meta, `${JSON.stringify(file, null, 2)}\n`);
  log(`video ${key.slice(0, 12)}: ${(file.bytes / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return file;
}
