// One line of `followme doctor`: where it looked, what, the verdict, and the
// fix when it is not ok.
export type Verdict = 'ok' | 'warn' | 'fail';

export interface Check {
  /** "host", or an edge's name, or "edge-a → edge-b" for a pair. */
  where: string;
  what: string;
  verdict: Verdict;
  detail: string;
  /** What to do about it (warn and fail). */
  fix?: string;
}

export const ok = (where: string, what: string, detail: string): Check => ({ where, what, verdict: 'ok', detail });
export const warn = (where: string, what: string, detail: string, fix: string): Check => ({ where, what, verdict: 'warn', detail, fix });
export const fail = (where: string, what: string, detail: string, fix: string): Check => ({ where, what, verdict: 'fail', detail, fix });

/** "fail  edge-a  criu feature uffd-noncoop: missing (postcopy, hybrid need it) — fix: …" */
export function checkLine(c: Check): string {
  return `${c.verdict.padEnd(4)}  ${c.where.padEnd(16)}  ${c.what}: ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ''}`;
}

/** A check that throws is a failed check, with its message. */
export async function guarded(where: string, what: string, fix: string, fn: () => Promise<Check | Check[]>): Promise<Check[]> {
  try {
    const r = await fn();
    return Array.isArray(r) ? r : [r];
  } catch (e) {
    return [fail(where, what, (e as Error).message.split('\n')[0]!, fix)];
  }
}
