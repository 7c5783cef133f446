// Progress of a long experiment: a bar with the ETA on a terminal
// (cli-progress), a line per run otherwise (CI logs, pipes).
import { SingleBar } from 'cli-progress';
import type { Progress } from '../experiment/runner.js';
import { log } from './output.js';

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function progressReporter(): { update(p: Progress): void; stop(): void } {
  if (!process.stderr.isTTY) {
    return {
      update: (p) => {
        if (!p.current) return;
        log(`[${p.done + 1}/${p.total}] ${p.current.key}${p.etaMs !== undefined ? ` (about ${formatDuration(p.etaMs)} left)` : ''}`);
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar({
    format: 'experiment [{bar}] {value}/{total} runs | {eta_text} left | {run}',
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  });
  let startedBar = false;
  return {
    update: (p) => {
      const payload = { run: p.current?.key ?? '', eta_text: p.etaMs !== undefined ? formatDuration(p.etaMs) : '…' };
      if (!startedBar) {
        bar.start(p.total, p.done, payload);
        startedBar = true;
      } else bar.update(p.done, payload);
    },
    stop: () => startedBar && bar.stop(),
  };
}
