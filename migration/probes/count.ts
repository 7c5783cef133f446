// The blank container's in-memory count, read over HTTP from the controller:
// one bounded GET, or a bounded number of them.
import { request } from 'node:http';
import { FollowmeError } from '../../common/errors.js';
import { poll, PollTimeoutError } from '../../common/poll.js';

export function readCount(ip: string, timeoutMs = 3000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port: 80, path: '/count', method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        const n = Number(body.trim());
        if (res.statusCode === 200 && Number.isInteger(n)) resolve(n);
        else reject(new FollowmeError(`http://${ip}/count answered ${res.statusCode} ${JSON.stringify(body.slice(0, 40))}`));
      });
    });
    req.on('timeout', () => req.destroy(new FollowmeError(`http://${ip}/count: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** At most `attempts` GETs, `intervalMs` apart; the last error if none answers. */
export async function readCountEventually(ip: string, attempts = 20, intervalMs = 500): Promise<number> {
  try {
    return (await poll(() => readCount(ip), { attempts, intervalMs, timeoutMs: attempts * (intervalMs + 3000) })).value;
  } catch (e) {
    throw e instanceof PollTimeoutError && e.cause instanceof Error ? e.cause : e;
  }
}
