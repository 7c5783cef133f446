// A node that stops answering: the error says so, and where to look (the VM's
// serial console), instead of ssh2's bare "Not connected".
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshTarget } from '../../common/ssh/target.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { clientKey, loopbackInventory, startRecordingSshServer, type RecordingSshServer } from '../harness/recording-ssh-server.js';

describe('an SSH connection to a node that dies', () => {
  let server: RecordingSshServer;
  let key: { privateKeyPath: string; publicKey: string };
  const keyDir = mkdtempSync(join(tmpdir(), 'fm-ssh-lost-'));

  beforeAll(async () => {
    key = clientKey(keyDir);
    server = await startRecordingSshServer(key.publicKey);
  });
  afterAll(async () => {
    await server.close();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const edgeA = () => loopbackInventory(server, key.privateKeyPath).nodes[0]!;

  it('commands after the connection dropped fail naming the lost connection and the console log', async () => {
    const c = await SshConnection.connect(sshTarget(undefined, edgeA()));
    expect((await c.run(['true'])).exitCode).toBe(0);
    // The network goes: the socket under the SSH session is destroyed.
    (c as unknown as { client: { _sock: { destroy(): void } } }).client._sock.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const lost =
      /^edge-a \(127\.0\.0\.1\): the SSH connection was lost \(.+\); if the VM died, its serial console log says why: \/var\/log\/libvirt\/qemu\/fmfake-edge-a-serial\.log$/;
    await expect(c.run(['true'])).rejects.toThrow(lost);
    await expect(c.runInShell(['true'])).rejects.toThrow(lost);
    c.close();
  });

  it('a node that refuses connections: the connect error names the console log too', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    await expect(SshConnection.connect({ ...sshTarget(undefined, edgeA()), port })).rejects.toThrow(
      /^edge-a \(127\.0\.0\.1\): SSH connection failed: connect ECONNREFUSED 127\.0\.0\.1:\d+; if the VM died, its serial console log says why: /,
    );
  });

  it('a connection closed on purpose is not "lost"', async () => {
    const c = await SshConnection.connect(sshTarget(undefined, edgeA()));
    c.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(c.run(['true'])).rejects.not.toThrow(/was lost/);
  });
});
