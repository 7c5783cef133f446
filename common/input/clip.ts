// Values from input are echoed in error messages; a long one is cut, so a
// 55 MB config or a huge array never comes back whole.

export const MAX_SHOWN_CHARS = 120;

/** True when `text` holds a NUL or a line break: such a value can never be a path, a name or a config value. */
export function hasBreakOrNul(text: string): boolean {
  return text.includes('\u0000') || text.includes('\n') || text.includes('\r');
}

/** The first `max` characters, and how many more there were. */
export function clip(text: string, max = MAX_SHOWN_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A value as JSON, cut to `max` characters; `undefined` and values JSON cannot say are named. */
export function shown(value: unknown, max = MAX_SHOWN_CHARS): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  return clip(text ?? String(value), max);
}

/** `text` on one line: every run of control characters (C0, DEL, C1, line and paragraph separators) becomes one space. */
export function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ');
}
