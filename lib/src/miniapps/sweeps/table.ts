import type { SweepRow } from './sweep.js';

/** The dimensions that differ between rows (those that do not are said once, above). */
export function varyingKeys(rows: readonly SweepRow[]): string[] {
  const keys = [...new Set(rows.flatMap(row => Object.keys(row.point)))];
  return keys.filter(key => new Set(rows.map(row => row.point[key])).size > 1);
}

const number = (value: number | null, digits: number) =>
  value === null ? '–' : value.toFixed(digits);

/** The paper-style table: one line per point, its throughput, latency and losses. */
export function sweepMarkdown(rows: readonly SweepRow[]): string {
  const keys = rows.length > 0 ? Object.keys(rows[0]!.point) : [];
  const header = [
    ...keys,
    'processed msg/s',
    'MB/s',
    'p50 ms',
    'p99 ms',
    'processed',
    'lost',
    'duplicated',
    'state'
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map(
      row =>
        `| ${[
          ...keys.map(key => String(row.point[key])),
          number(row.processedPerSecond, 1),
          number(row.processedMBPerSecond, 2),
          number(row.p50Ms, 1),
          number(row.p99Ms, 1),
          String(row.processed),
          String(row.lost),
          String(row.duplicated),
          row.state
        ].join(' | ')} |`
    )
  ];
  return `${lines.join('\n')}\n`;
}
