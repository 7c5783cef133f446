// Test helper: one bounded HTTP GET from the controller (inside the sandbox).
import { request } from 'node:http';

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
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await httpGet(host, path);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  throw last;
}
