// The layers import one way: common below everything; workloads (container
// templates, their clients) over common; provision (testbeds, which builds the
// workloads' templates into the image) and migration (the engine) side by
// side, neither importing the other; experiments (runner, statistics, report)
// over the engine; mobility (roads, traces, handover policies, trips) over
// the experiments' probe, containers and results;
// the CLI and the Pulumi program on top.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';

const root = projectRoot();

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(join(root, p)).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level folder each relative import of `file` lands in. */
function importedLayers(file: string): { spec: string; layer: string }[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => {
    const target = relative(root, resolve(dirname(join(root, file)), m[1]!));
    return { spec: m[1]!, layer: target.split('/')[0]! };
  });
}

const allowed: Record<string, string[]> = {
  common: ['common'],
  workloads: ['common', 'workloads'],
  provision: ['common', 'workloads', 'provision'],
  migration: ['common', 'migration'],
  experiment: ['common', 'workloads', 'provision', 'migration', 'experiment'],
  mobility: ['common', 'workloads', 'provision', 'migration', 'experiment', 'mobility'],
};

describe('layers', () => {
  it.each(Object.keys(allowed))('%s imports only from %s and below', (layer) => {
    const wrong = sources(layer).flatMap((f) =>
      importedLayers(f)
        .filter((i) => !allowed[layer]!.includes(i.layer))
        .map((i) => `${f} imports ${i.spec}`),
    );
    expect(wrong).toEqual([]);
  });

  it('sees the imports it checks (a file that imports across would be caught)', () => {
    expect(importedLayers('migration/engine/migrate.ts').map((i) => i.layer)).toContain('common');
    expect(importedLayers('cli/commands/demo.ts').map((i) => i.layer)).toEqual(expect.arrayContaining(['provision', 'migration']));
  });
});
