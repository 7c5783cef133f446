// One bounded HTTP GET from the controller to a container's service.
import { request } from 'node:http';
import { FollowmeError } from '../common/errors.js';
import { poll, PollTimeoutError } from '../common/poll.js';

const MAX_BODY = 64 * 1024;

export function httpGetText(ip: string, port: number, path: string, timeoutMs = 3000): Promise<string> {
  const url = `http://${ip}:${port}${path}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: ip, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
        if (body.length > MAX_BODY) req.destroy(new FollowmeError(`${url}: answer longer than ${MAX_BODY} bytes`));
      });
      res.on('end', () => {
        if (res.statusCode === 200) resolve(body);
        else reject(new FollowmeError(`${url} answered ${res.statusCode} ${JSON.stringify(body.slice(0, 40))}`));
      });
    });
    req.on('timeout', () => req.destroy(new FollowmeError(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** At most `attempts` tries, `intervalMs` apart; the last error if none succeeds. */
export async function eventually<T>(attempt: () => Promise<T>, attempts = 20, intervalMs = 500): Promise<T> {
  try {
    return (await poll(attempt, { attempts, intervalMs, timeoutMs: attempts * (intervalMs + 3000) })).value;
  } catch (e) {
    throw e instanceof PollTimeoutError && e.cause instanceof Error ? e.cause : e;
  }
}
