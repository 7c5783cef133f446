// Limits on the shape of a parsed input (config, plan, inventory, manifest,
// one run record), checked without recursion before anything else walks it:
// ajv, the YAML library's toJS and the message formatter all recurse, and
// the YAML library's duplicate-key check is quadratic in a mapping's keys.
// Real inputs are far inside these bounds.

export const INPUT_LIMITS = {
  /** Nested objects and arrays; the deepest real input (a run record) has 6 levels. */
  maxDepth: 32,
  /** Values of every kind, counted once each; a plan or config has a few hundred. */
  maxValues: 20_000,
} as const;

/** Why `value`'s shape is out of bounds, or undefined. Iterative: a 100,000-deep array is no danger. */
export function structureProblem(value: unknown, limits: { maxDepth: number; maxValues: number } = INPUT_LIMITS): string | undefined {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let values = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (++values > limits.maxValues) return `it holds more than ${limits.maxValues} values`;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limits.maxDepth) return `it is nested more than ${limits.maxDepth} levels deep`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return undefined;
}
