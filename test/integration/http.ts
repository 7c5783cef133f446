// Test helper: one bounded HTTP GET from the controller (inside the sandbox).
import { request } from 'node:http';
import { poll } from '../../common/poll.js';

export function httpGet(host: string, path: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port: 80, path, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Retries a GET at most `attempts` times, `intervalMs` apart. */
export async function httpGetEventually(host: string, path: string, attempts = 30, intervalMs = 1000): Promise<{ status: number; body: string }> {
  return (await poll(() => httpGet(host, path), { attempts, intervalMs, timeoutMs: attempts * (intervalMs + 3000) })).value;
}
