// An SSH server on loopback that records what it is sent: every connection,
// every authenticated session, every command line. Tests point an inventory
// at it to show that bad input never reaches a node (nothing recorded), and
// what good input does send. Every command "succeeds" with no output,
// unless `answer` says otherwise.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateKeyPair } from '../../provision/testbed/keys.js';
import type { Inventory } from '../../common/inventory.js';

export interface RecordingSshServer {
  port: number;
  hostPublicKey: string;
  /** TCP connections accepted (an SSH client that got as far as connecting). */
  connections: number;
  /** Every exec request's command line, in order. */
  commands: string[];
  close(): Promise<void>;
}

export type Answer = (command: string) => { stdout?: string; stderr?: string; code?: number };

export async function startRecordingSshServer(clientPublicKey: string, answer: Answer = () => ({})): Promise<RecordingSshServer> {
  const host = generateKeyPair('recording-server');
  const allowed = ssh2.utils.parseKey(clientPublicKey);
  if (allowed instanceof Error) throw allowed;
  const allowedKey = (Array.isArray(allowed) ? allowed[0]! : allowed).getPublicSSH();
  const rec = { connections: 0, commands: [] as string[] };
  const server = new ssh2.Server({ hostKeys: [host.private] }, (client) => {
    rec.connections++;
    client.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.key.data.equals(allowedKey)) ctx.accept();
      else ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, _reject, info) => {
          rec.commands.push(info.command);
          const stream = acceptExec();
          const a = answer(info.command);
          if (a.stderr) stream.stderr.write(a.stderr);
          if (a.stdout) stream.write(a.stdout);
          stream.exit(a.code ?? 0);
          stream.end();
        });
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hostPublicKey: host.public,
    get connections() {
      return rec.connections;
    },
    commands: rec.commands,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client key pair in `dir` (private file mode 0600), for inventories that point at the recording server. */
export function clientKey(dir: string): { privateKeyPath: string; publicKey: string } {
  const pair = generateKeyPair('test-controller');
  const privateKeyPath = join(dir, 'id_ed25519');
  writeFileSync(privateKeyPath, pair.private, { mode: 0o600 });
  return { privateKeyPath, publicKey: pair.public };
}

/** A sound inventory whose edges (and NFS node) are the recording server on 127.0.0.1. */
export function loopbackInventory(server: RecordingSshServer, privateKeyPath: string, over: Partial<Inventory> = {}): Inventory {
  const node = (name: string, role: 'edge' | 'nfs', i: number) => ({
    name,
    role,
    ip: '127.0.0.1',
    mac: `52:54:00:00:00:0${i}`,
    libvirtUri: 'qemu:///system',
    domain: `fmfake-${name}`,
    sshUser: 'root',
    sshPort: server.port,
    hostPublicKey: server.hostPublicKey,
    privateKeyPath,
    consoleLog: `/var/log/libvirt/qemu/fmfake-${name}-serial.log`,
  });
  return {
    version: 1,
    prefix: 'fmfake',
    subnet: '127.0.0.0/24',
    nfs: { server: '127.0.0.1', export: '/srv/followme', mountPoint: '/mnt/followme' },
    nodes: [node('edge-a', 'edge', 1), node('edge-b', 'edge', 2), node('nfs', 'nfs', 3)],
    containerAddresses: [{ ip: '127.0.0.250', mac: '52:54:00:00:00:fa' }],
    ...over,
  };
}

export function writeJson(dir: string, name: string, data: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(data, null, 2));
  return path;
}
