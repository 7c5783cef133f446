// A report as a list of blocks, rendered twice: Markdown (charts as SVG
// files beside it) and one self-contained HTML page (charts inline).
import { oneLine } from '../../common/input/clip.js';
import type { Chart } from './charts.js';

export type Block =
  | { kind: 'h1' | 'h2' | 'h3'; text: string }
  | { kind: 'p'; text: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'table'; head: string[]; rows: string[][] }
  | { kind: 'chart'; chart: Chart };

/** Text from records and manifests may hold anything: no control character breaks a line or a table, and no `<` opens raw HTML. */
const mdText = (s: string) => oneLine(s).replaceAll('<', '&lt;');
const mdCell = (s: string) => mdText(s).replaceAll('|', '\\|');
/** A column of numbers (or dashes) is right-aligned. */
const numeric = (rows: readonly string[][], i: number) => rows.length > 0 && rows.every((r) => /^[-–+]?[\d.,]+(?:[ ±×%][^|]*)?$|^–$/.test(r[i] ?? ''));

export function toMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'h1':
        out.push(`# ${mdText(b.text)}`);
        break;
      case 'h2':
        out.push(`## ${mdText(b.text)}`);
        break;
      case 'h3':
        out.push(`### ${mdText(b.text)}`);
        break;
      case 'p':
        out.push(mdText(b.text));
        break;
      case 'list':
        out.push(b.items.map((i) => `- ${mdText(i)}`).join('\n'));
        break;
      case 'table':
        out.push(
          [
            `| ${b.head.map(mdCell).join(' | ')} |`,
            `|${b.head.map((_, i) => (numeric(b.rows, i) ? '---:' : '---')).join('|')}|`,
            ...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
          ].join('\n'),
        );
        break;
      case 'chart':
        out.push(`![${b.chart.title}](${b.chart.file})`);
        break;
    }
  }
  return `${out.join('\n\n')}\n`;
}

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
/** The little Markdown the paragraphs use: `code` and **bold**. */
const inline = (s: string) =>
  esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

export function toHtml(title: string, blocks: readonly Block[]): string {
  const body = blocks.map((b): string => {
    switch (b.kind) {
      case 'h1':
      case 'h2':
      case 'h3':
        return `<${b.kind}>${inline(b.text)}</${b.kind}>`;
      case 'p':
        return `<p>${inline(b.text)}</p>`;
      case 'list':
        return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
      case 'table':
        return `<table><thead><tr>${b.head.map((h) => `<th>${inline(h)}</th>`).join('')}</tr></thead><tbody>${b.rows
          .map((r) => `<tr>${r.map((c, i) => `<td${numeric(b.rows, i) ? ' class="n"' : ''}>${inline(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`;
      case 'chart':
        // vega's SVG: made here from numbers, not from input text.
        return `<figure>${b.chart.svg}<figcaption>${esc(b.chart.title)}</figcaption></figure>`;
      default:
        return '';
    }
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3}code{background:#f3f3f3;padding:0 .2em}figure{margin:1.5em 0}figcaption{color:#555;font-size:90%}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}
