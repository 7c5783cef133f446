// Lists that grow at run time (the strategy registry). A schema names one
// with the `registered` keyword (ajv.ts), so a name registered after the
// schema was compiled is accepted too, and the message lists what is.
const lists = new Map<string, () => readonly string[]>();

/** Makes `names` the list that schemas call `list`. */
export function provideNames(list: string, names: () => readonly string[]): void {
  lists.set(list, names);
}

/** The names of `list` now; empty when nothing provides it. */
export function registeredNames(list: string): readonly string[] {
  return lists.get(list)?.() ?? [];
}
