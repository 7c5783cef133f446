// Builds a seed volume (ISO 9660, Rock Ridge, label "cidata") from plan files.
import { mkdtemp, mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runLocal } from '../../common/exec.js';
import type { SeedFile, SeedPart } from '../plan/types.js';

async function joinParts(parts: SeedPart[]): Promise<string> {
  const texts = await Promise.all(
    parts.map(async (p) => {
      if ('content' in p) return p.content;
      const pad = ' '.repeat(p.indent);
      return `${(await readFile(p.fromFile, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => pad + l)
        .join('\n')}\n`;
    }),
  );
  return texts.join('');
}

/** The text of one seed file, secrets read from their files now. */
export async function renderSeedFile(f: SeedFile): Promise<string> {
  return 'content' in f ? f.content : 'fromFile' in f ? readFile(f.fromFile, 'utf8') : joinParts(f.parts);
}

/** Writes the ISO into a fresh temp dir and returns its path; caller removes the dir. */
export async function buildSeedIso(label: string, files: SeedFile[]): Promise<{ iso: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'followme-seed-'));
  await chmod(dir, 0o700);
  const root = join(dir, 'root');
  for (const f of files) {
    const target = join(root, f.path);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, await renderSeedFile(f), { mode: f.mode });
  }
  const iso = join(dir, 'seed.iso');
  const argv = ['-as', 'mkisofs', '-quiet', '-output', iso, '-volid', label, '-joliet', '-rock', root];
  try {
    await runLocal(['xorriso', ...argv], { timeoutMs: 60_000 });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return { iso, dir };
}
