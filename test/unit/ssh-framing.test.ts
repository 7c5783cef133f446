import { describe, expect, it } from 'vitest';
import { framedLine, parseFramed } from '../../common/ssh/shell.js';
import { takeRemoteTiming, withRemoteTiming } from '../../common/ssh/transport.js';

describe('persistent shell framing', () => {
  const marker = '@@fm-0123456789abcdef';

  it('quotes argv into one line that times the command and frames both streams', () => {
    const line = framedLine(['echo', "it's; rm -rf /"], marker);
    expect(line).toContain(`echo 'it'\\''s; rm -rf /' </dev/null`);
    expect(line.endsWith('\n')).toBe(true);
    expect(line.split('\n')).toHaveLength(2);
  });

  it('waits for both markers, then returns exact output, exit code and remote time', () => {
    const out = `hello\nno newline at end\n${marker} 3 1700000000.100000 1700000000.350000\n`;
    expect(parseFramed(out, 'warn', marker)).toBeUndefined();
    const r = parseFramed(out, `warn\n${marker}\n`, marker)!;
    expect(r.stdout).toBe('hello\nno newline at end');
    expect(r.stderr).toBe('warn');
    expect(r.exitCode).toBe(3);
    expect(r.remoteMs).toBeCloseTo(250, 3);
    expect(r.remoteStartMs).toBeCloseTo(1700000000100, 0);
    expect(r.remoteEndMs).toBeCloseTo(1700000000350, 0);
  });

  it('is not fooled by output that mentions another marker', () => {
    const out = `\n@@fm-ffffffffffffffff 0 1 2\n`;
    expect(parseFramed(out, `\n${marker}\n`, marker)).toBeUndefined();
  });
});

describe('one-shot remote timing', () => {
  it('wraps argv in bash without interpolating it, and splits the timing line off stderr', () => {
    const argv = withRemoteTiming(['criu', 'dump', '$(evil)']);
    expect(argv.slice(0, 2)).toEqual(['bash', '-c']);
    expect(argv.slice(-3)).toEqual(['criu', 'dump', '$(evil)']);
    const t = takeRemoteTiming('some error\n\n@@followme-timing 10.000000 10.125000\n');
    expect(t.stderr).toBe('some error\n');
    expect(t.remoteMs).toBeCloseTo(125, 3);
    expect(takeRemoteTiming('plain').remoteMs).toBeUndefined();
  });
});
