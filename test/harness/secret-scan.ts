// Looks for private-key material in files a test run wrote. A private key
// may live only in a file of its own, readable by its owner alone (mode
// 0600); anywhere else (records, inventories, logs, configs, reports) any
// PEM or OpenSSH private key block, or any line of a key found in the
// scanned tree, is a finding.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const PRIVATE_BLOCK = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/g;
/**
 * The OpenSSH private key format's magic ("openssh" "-key-v1") in base64: the
 * start of every key body, however it is wrapped. Assembled at run time from
 * parts: vitest keeps transformed modules under TMPDIR with an inline source
 * map (the source in base64), so neither the magic nor its plain text may
 * appear in any source file.
 */
const OPENSSH_MAGIC = Buffer.from(['openssh', 'key', 'v1'].join('-')).toString('base64').slice(0, 19);
/** Files bigger than this (disk images) are skipped and reported. */
const MAX_SCANNED_BYTES = 64 * 1024 * 1024;

export interface ScanResult {
  findings: string[];
  keyFiles: string[];
  scannedFiles: number;
  skipped: string[];
}

function walk(root: string, out: string[]): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(root);
  } catch {
    return;
  }
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const f of readdirSync(root)) walk(join(root, f), out);
  else if (st.isFile()) out.push(root);
}

/** The body lines of a private key block (base64, 40+ characters): a leak of any one is a finding. */
function bodyLines(block: string): string[] {
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
}

export function scanForKeyMaterial(roots: string[], opts: { skip?: (path: string) => boolean } = {}): ScanResult {
  const files: string[] = [];
  for (const r of roots) walk(r, files);
  const result: ScanResult = { findings: [], keyFiles: [], scannedFiles: 0, skipped: [] };
  const texts = new Map<string, string>();
  const known: string[] = [];
  for (const f of files) {
    if (opts.skip?.(f)) continue;
    const st = lstatSync(f);
    if (st.size > MAX_SCANNED_BYTES) {
      result.skipped.push(`${f} (${st.size} bytes)`);
      continue;
    }
    const text = readFileSync(f, 'latin1');
    result.scannedFiles++;
    const blocks = text.match(PRIVATE_BLOCK) ?? [];
    // A key file: one private key block and nothing else.
    if (blocks.length === 1 && text.trim() === blocks[0]!.trim()) {
      result.keyFiles.push(f);
      known.push(...bodyLines(blocks[0]!));
      if ((st.mode & 0o077) !== 0) result.findings.push(`${f}: a private key with mode ${(st.mode & 0o777).toString(8)}, not 600`);
      continue;
    }
    if (blocks.length) result.findings.push(`${f}: holds ${blocks.length} private key block(s) among other text`);
    else if (text.includes(OPENSSH_MAGIC)) result.findings.push(`${f}: holds an OpenSSH private key body (its base64 magic)`);
    else texts.set(f, text);
  }
  // Second pass: a known key's lines anywhere else (escaped in JSON, quoted in a log) are a leak too.
  for (const [f, text] of texts) {
    const line = known.find((l) => text.includes(l));
    if (line) result.findings.push(`${f}: holds a line of a private key found in ${result.keyFiles.find((k) => readFileSync(k, 'latin1').includes(line))}`);
  }
  return result;
}
