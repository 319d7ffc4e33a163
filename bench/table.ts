/** One table, printed to a terminal as it is measured and written as Markdown into BENCHMARKS.md. */
export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  /** Per column; default: first column left, the others right (they hold numbers). */
  align?: ('left' | 'right')[];
}

function alignmentOf(table: Table, column: number): 'left' | 'right' {
  return table.align?.[column] ?? (column === 0 ? 'left' : 'right');
}

export function renderText(table: Table): string {
  const widths = table.headers.map((header, column) =>
    Math.max(header.length, ...table.rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells
    .map((cell, column) => (alignmentOf(table, column) === 'left' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
    .join('  ');
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [`\n${table.title}`, line(table.headers), rule, ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  const separator = table.headers.map((_, column) => (alignmentOf(table, column) === 'left' ? ':---' : '---:'));
  return [
    `| ${table.headers.map(escape).join(' | ')} |`,
    `| ${separator.join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

export function printTable(table: Table): void {
  console.log(renderText(table));
}
