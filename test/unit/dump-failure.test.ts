// What a failed CRIU dump says: CRIU's last errors from its log, and, when
// the images' file system is full (a full tmpfs fails the dump before CRIU
// can log why: its log is in the same directory), that it ran out of room.
import { describe, expect, it } from 'vitest';
import { scriptedTestbed } from './scripted-edge.js';

const proc = { initPid: 4242, cgroup: 'lxc.payload.c1', controllers: ['cpu'], hostLinks: [], inotify: false, netnsInode: 4026532236 };

async function failedDump(logAndRoom: string): Promise<string> {
  const tb = scriptedTestbed((kind) => (kind === 'criu-dump' ? { exitCode: 1 } : undefined));
  const edge = await tb.connect(tb.inventory.nodes.find((n) => n.name === 'edge-a')!);
  // The reads after a failure go straight over SSH: answered as the node would.
  (edge.ssh as unknown as { run: () => Promise<unknown> }).run = async () => ({ exitCode: 0, stdout: logAndRoom, stderr: '' });
  return edge.dump({ container: proc, imagesDir: '/tmp/followme-migrations/m1/dump' }).then(
    () => 'no error',
    (e: Error) => e.message,
  );
}

describe('a failed dump', () => {
  it('says the file system of its images is full when it is, even with nothing in its log', async () => {
    expect(await failedDump('---\n---\n1048576\n')).toMatch(
      /^edge-a: criu dump .*exited with 1: \(no errors in its log\) \(log: \/tmp\/followme-migrations\/m1\/dump\/dump\.log\)\nthe file system of \/tmp\/followme-migrations\/m1\/dump is full \(1024 KiB free\)$/,
    );
  });

  it("gives CRIU's last errors and nothing about room when there is room", async () => {
    const message = await failedDump('Error (criu/cr-dump.c:1905): Dumping FAILED.\n---\n---\n734003200\n');
    expect(message).toMatch(/exited with 1: Error \(criu\/cr-dump\.c:1905\): Dumping FAILED\. \(log: [^)]+\)$/);
  });
});
