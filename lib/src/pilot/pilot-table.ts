import type { PilotRecord } from '../protocol/index.js';
import type { DamagedRecordError } from './errors.js';

export function age(since: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(since)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** A plain text table, columns padded to their widest cell. */
export function formatPilotTable(records: readonly PilotRecord[], now = Date.now()): string {
  const rows = [
    ['ID', 'NAME', 'STATE', 'TYPE', 'RESOURCE', 'AGE'],
    ...records.map(record => [
      record.id,
      record.description.name ?? '',
      record.state,
      record.description.type,
      record.description.resource,
      age(record.createdAt, now)
    ])
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map(row => row[column]!.length)));
  return rows
    .map(row =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd()
    )
    .join('\n');
}

/** One line per registry file that holds no usable record: which pilot, which file, why. */
export function formatDamagedRecords(damaged: readonly DamagedRecordError[]): string {
  return damaged
    .map(
      error =>
        `${error.pilotId}  DAMAGED  ${error.file}: ${error.problem} (cancel ${error.pilotId} still stops it)`
    )
    .join('\n');
}

/** One line per pilot that could not be checked now (see PilotComputeService.inventory). */
export function formatUncheckedPilots(
  unchecked: readonly { pilotId: string; reason: string }[]
): string {
  return unchecked
    .map(entry => `${entry.pilotId}  NOT CHECKED  (state as last recorded): ${entry.reason}`)
    .join('\n');
}
