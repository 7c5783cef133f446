import { describe, expect, it } from 'vitest';
import { explainUnseizable, findUnseizableTask } from '../../migration/criu/log.js';

// Error lines as CRIU 4.1.1 wrote them on the testbed edges: the CI failure of
// 2026-11-26 (the last two) and its reproduction on a dev testbed (the first).
const stuckInit = [
  'Error (criu/cr-dump.c:1791): Timeout reached. Try to interrupt: 0',
  'Error (compel/src/lib/infect.c:263): Unseizable non-zombie 1539 found, state D, err -1/4',
  'Error (compel/src/lib/infect.c:418): Unable to detach from 1539: No such process',
].join('\n');

describe('CRIU log errors', () => {
  it('finds the task CRIU could not stop, with its state', () => {
    expect(findUnseizableTask(stuckInit)).toEqual({ pid: 1539, state: 'D' });
  });

  it('finds nothing in other failures', () => {
    expect(findUnseizableTask('Error (criu/cr-dump.c:1905): Pre-dumping FAILED.')).toBeUndefined();
    expect(findUnseizableTask('')).toBeUndefined();
  });

  it('names the task and the known causes of state D', () => {
    const why = explainUnseizable({ pid: 1539, state: 'D' }, 'followme-init');
    expect(why).toContain('pid 1539 (followme-init)');
    expect(why).toMatch(/uninterruptible sleep/);
    expect(why).toMatch(/vfork/);
    expect(explainUnseizable({ pid: 7, state: 'S' }, undefined)).toBe('pid 7 could not be stopped by CRIU (state S)');
  });
});
