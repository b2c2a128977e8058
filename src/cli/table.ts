import stringWidth from 'string-width';
import { formatTokens } from '../core/text';

/**
 * The CLI's human tables: as wide as the terminal (100 columns when standard output is not one,
 * unlimited with --wide), text measured by its display width (string-width: East Asian wide
 * characters and emoji take two columns), numbers right-aligned, a totals row last.
 */

export interface Column {
  head: string;
  /** Numbers: right-aligned. */
  right?: boolean;
  /**
   * A column that may be narrowed to fit: the lowest `shrink` is narrowed first, down to `min`
   * columns. A column without one keeps its width.
   */
  shrink?: number;
  min?: number;
  /** How a narrowed cell is cut: an ellipsis (text), or plainly (an id: its start is a usable prefix). */
  cut?: 'ellipsis' | 'prefix';
}

export interface TableStyle {
  /** The most columns a line may take; null: no limit (--wide). */
  width: number | null;
  /** ANSI bold for the header and the totals (a terminal, and neither NO_COLOR nor --no-color). */
  color: boolean;
}

const GAP = '  ';

/** The width a table may take: --wide none, else the terminal's, else 100. */
export function tableWidth(wide: boolean, out: { isTTY?: boolean; columns?: number }): number | null {
  if (wide) return null;
  return out.isTTY && out.columns ? out.columns : 100;
}

/** `text` cut to at most `width` display columns, ending in an ellipsis when it was cut (unless `prefix`). */
export function fitText(text: string, width: number, cut: 'ellipsis' | 'prefix' = 'ellipsis'): string {
  if (stringWidth(text) <= width) return text;
  const room = cut === 'ellipsis' ? width - 1 : width;
  let out = '';
  let used = 0;
  for (const { segment } of new Intl.Segmenter().segment(text)) {
    const w = stringWidth(segment);
    if (used + w > room) break;
    out += segment;
    used += w;
  }
  return cut === 'ellipsis' ? `${out}…` : out;
}

function pad(text: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - stringWidth(text)));
  return right ? fill + text : text + fill;
}

/** The lines of the table (each ending in '\n'): the header, the rows, then the totals row if given. */
export function renderTable(columns: Column[], rows: string[][], style: TableStyle, totals?: string[]): string[] {
  const all = totals ? [...rows, totals] : rows;
  const widths = columns.map((c, i) => Math.max(stringWidth(c.head), ...all.map((r) => stringWidth(r[i] ?? ''))));
  if (style.width !== null) {
    let excess = widths.reduce((a, b) => a + b, 0) + GAP.length * (columns.length - 1) - style.width;
    const order = columns
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.shrink !== undefined)
      .sort((a, b) => (a.c.shrink ?? 0) - (b.c.shrink ?? 0));
    for (const { c, i } of order) {
      if (excess <= 0) break;
      const floor = Math.max(c.min ?? 1, 1);
      const take = Math.min(excess, Math.max(0, widths[i] - floor));
      widths[i] -= take;
      excess -= take;
    }
  }
  const bold = (s: string) => (style.color ? `\x1b[1m${s}\x1b[22m` : s);
  const line = (cells: string[], emphasis: boolean) => {
    const text = columns
      .map((c, i) => pad(fitText(cells[i] ?? '', widths[i], c.cut), widths[i], c.right ?? false))
      .join(GAP)
      .trimEnd();
    return `${emphasis ? bold(text) : text}\n`;
  };
  const out = [
    line(
      columns.map((c) => c.head),
      true,
    ),
    ...rows.map((r) => line(r, false)),
  ];
  if (totals) out.push(line(totals, true));
  return out;
}

/** Token counts in a table: compact as in the status bar (formatTokens, 73.1K), or exact with --exact. */
export function tokenCell(n: number, exact: boolean): string {
  return exact ? n.toLocaleString('en-US') : formatTokens(n);
}

/**
 * Dollars with one precision for the whole column: cents, or four decimals when some non-zero
 * amount of the column is below a cent (so small costs are not shown as $0.00).
 */
export function usdColumn(values: readonly number[]): (n: number) => string {
  const digits = values.some((v) => v !== 0 && Math.abs(v) < 0.01) ? 4 : 2;
  return (n) => `$${n.toFixed(digits)}`;
}
