// Per-testbed SSH keys: one client key for the controller, one host key per
// node (pre-generated so the controller pins it instead of trusting on first
// use). Private keys are files with mode 0600 and are never printed.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { FollowmeError } from '../../common/errors.js';

export interface KeyPairFiles {
  privateKeyPath: string;
  publicKey: string;
}

export interface TestbedKeys {
  client: KeyPairFiles;
  hosts: Record<string, KeyPairFiles>;
}

function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600); // mode on create is masked by umask; make sure
}

/** True when both halves parse as SSH keys. */
export function isUsableKeyPair(pair: { private: string; public: string }): boolean {
  return !(ssh2.utils.parseKey(pair.public) instanceof Error) && !(ssh2.utils.parseKey(pair.private) instanceof Error);
}

/**
 * A fresh ed25519 pair. ssh2's generator returns a malformed pair about once
 * in 180 (a 31-byte key when the first byte is zero: seen here), which would
 * leave a node unreachable; such a pair is thrown away.
 */
export function generateKeyPair(comment: string, attempts = 10): { private: string; public: string } {
  for (let i = 0; i < attempts; i++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (isUsableKeyPair(pair)) return pair;
  }
  throw new FollowmeError(`could not generate a usable ed25519 key pair in ${attempts} attempts`);
}

/** Returns the key pair at `base` (+ .pub), creating it if absent. */
export function ensureKeyPair(base: string, comment: string): KeyPairFiles {
  const pubPath = `${base}.pub`;
  if (!existsSync(base) || !existsSync(pubPath)) {
    const pair = generateKeyPair(comment);
    writePrivate(base, pair.private);
    writeFileSync(pubPath, `${pair.public}\n`, { mode: 0o644 });
  }
  return { privateKeyPath: base, publicKey: readFileSync(pubPath, 'utf8').trim() };
}

export function hasKeys(dir: string): boolean {
  return existsSync(join(dir, 'keys', 'id_ed25519'));
}

/** Creates (or reuses) every key of a testbed under `dir`/keys. */
export function ensureTestbedKeys(dir: string, prefix: string, nodes: string[]): TestbedKeys {
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  chmodSync(keysDir, 0o700);
  const client = ensureKeyPair(join(keysDir, 'id_ed25519'), `followme-${prefix}-controller`);
  const hosts: Record<string, KeyPairFiles> = {};
  for (const node of nodes) {
    hosts[node] = ensureKeyPair(join(keysDir, `${node}_ssh_host_ed25519_key`), `root@${prefix}-${node}`);
  }
  return { client, hosts };
}
