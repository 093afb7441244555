import type { KernelPlugin, KernelServices } from '../kernel/api.js';
import { plaintextWarning } from '../frameworks/kafka/server-config.js';
import {
  endpointLabel,
  endpointOf,
  isTerminal,
  summarize,
  type PilotRecord
} from '../protocol/index.js';
import { cuMagic } from './cu-magic.js';
import { getDefaultPilotService } from './index.js';
import { parsePilotMagic, PILOT_MAGIC_USAGE, type PilotMagicCommand } from './magic-arguments.js';
import type { Pilot } from './pilot.js';
import {
  age,
  formatDamagedRecords,
  formatPilotTable,
  formatUncheckedPilots
} from './pilot-table.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`);
}

function htmlTable(records: readonly PilotRecord[]): string {
  const header = ['id', 'name', 'state', 'type', 'resource', 'age']
    .map(cell => `<th>${cell}</th>`)
    .join('');
  const rows = records
    .map(record =>
      [
        record.id,
        record.description.name ?? '',
        record.state,
        record.description.type,
        record.description.resource,
        age(record.createdAt)
      ]
        .map(cell => `<td>${escapeHtml(cell)}</td>`)
        .join('')
    )
    .map(cells => `<tr>${cells}</tr>`)
    .join('');
  return `<table><thead><tr>${header}</tr></thead><tbody>${rows}</tbody></table>`;
}

function recordBundle(record: PilotRecord): Record<string, unknown> {
  return {
    'text/plain': JSON.stringify(record, null, 2),
    'application/json': summarize(record)
  };
}

/** Runs one `%pilot ...` line; see PILOT_MAGIC_USAGE. */
async function pilotMagic(args: string, kernel: KernelServices): Promise<undefined> {
  const command = parsePilotMagic(args);
  const service = getDefaultPilotService();
  switch (command.kind) {
    case 'help':
      kernel.display({ 'text/plain': PILOT_MAGIC_USAGE });
      return undefined;
    case 'list': {
      const { pilots, damaged, unchecked } = await service.inventory();
      const records = pilots.map(pilot => pilot.record);
      const notes = [formatDamagedRecords(damaged), formatUncheckedPilots(unchecked)]
        .filter(text => text !== '')
        .join('\n');
      kernel.display({
        'text/plain': `${formatPilotTable(records)}${notes !== '' ? `\n${notes}` : ''}`,
        'text/html': `${htmlTable(records)}${notes !== '' ? `<pre>${escapeHtml(notes)}</pre>` : ''}`
      });
      return undefined;
    }
    case 'show':
      kernel.display(recordBundle((await service.getPilot(command.id)).record));
      return undefined;
    case 'cancel': {
      const canceled = await service.cancelPilot(command.id);
      const note =
        canceled.damaged !== undefined
          ? ` (its processes are stopped; its record stays damaged: ${canceled.damaged.file}: ${canceled.damaged.problem})`
          : '';
      kernel.display({ 'text/plain': `${canceled.id} ${canceled.state}${note}` });
      return undefined;
    }
    case 'create':
      return createInCell(command, kernel);
  }
}

/** What an interrupted or timed-out wait leaves in the cell: the pilot is not lost. */
function keepsRunningNote(pilot: Pilot): string {
  const stage = pilot.record.progress !== undefined ? `: ${pilot.record.progress.stage}` : '';
  return (
    `${pilot.id} keeps running (${pilot.state}${stage}) until it is canceled or its walltime of ` +
    `${pilot.description.walltimeMinutes} min ends; cancel it with %pilot cancel ${pilot.id}`
  );
}

/**
 * `%pilot create`: one display line names the pilot and, with --wait, follows its start-up
 * until it is Running. Interrupting the kernel stops the cell at once but not this magic's
 * own work, so it listens for the interrupt itself: the line stops changing and says that the
 * pilot keeps running and how to cancel it.
 */
async function createInCell(
  command: Extract<PilotMagicCommand, { kind: 'create' }>,
  kernel: KernelServices
): Promise<undefined> {
  const interrupted = new AbortController();
  const stopListening = kernel.onInterrupt(() => interrupted.abort(new Error('interrupted')));
  try {
    const pilot = await getDefaultPilotService().createPilot(command.input);
    const line = (text: string) => ({ 'text/plain': `${pilot.id} ${text}` });
    if (interrupted.signal.aborted) {
      // Interrupted during the launch: the cell has ended, the pilot still needs its id shown.
      kernel.display({ 'text/plain': keepsRunningNote(pilot) });
      return undefined;
    }
    const status = kernel.display(line(`${pilot.state} on ${pilot.description.resource}`));
    if (!command.wait) return undefined;
    // The cell's line follows the start-up stages until the pilot is Running.
    const poll = setInterval(() => {
      const progress = pilot.record.progress;
      if (progress !== undefined) status.update(line(`${pilot.state}: ${progress.stage}`));
    }, 300);
    // Synchronously in the interrupt, so the note reaches the cell before the kernel is idle.
    interrupted.signal.addEventListener('abort', () => {
      clearInterval(poll);
      status.update({ 'text/plain': keepsRunningNote(pilot) });
    });
    try {
      await pilot.wait('Running', {
        signal: interrupted.signal,
        ...(command.timeoutMs !== undefined ? { timeoutMs: command.timeoutMs } : {})
      });
    } catch (error) {
      // The kernel reports the interrupt (KeyboardInterrupt) in the cell; nothing to add.
      if (interrupted.signal.aborted) return undefined;
      const ended = isTerminal(pilot.state);
      const reason = pilot.record.reason !== undefined ? `: ${pilot.record.reason}` : '';
      status.update(
        ended ? line(`${pilot.state}${reason}`) : { 'text/plain': keepsRunningNote(pilot) }
      );
      throw error;
    } finally {
      clearInterval(poll);
    }
    const details = await pilot.details();
    // A pilot that listens PLAINTEXT (asked for explicitly) says so where it is created.
    const plaintext =
      details.security === 'plaintext' ? ` (Warning: ${plaintextWarning(pilot.id)})` : '';
    status.update(line(`Running, ${endpointLabel(details)} ${endpointOf(details)}${plaintext}`));
    return undefined;
  } finally {
    stopListening();
  }
}

/** `pilots` (the service) in every cell, the %pilot line magic and the %%cu cell magic. */
export const pilotKernelPlugin: KernelPlugin = kernel => {
  const service = getDefaultPilotService();
  kernel.defineGlobal('pilots', service);
  kernel.registerLineMagic('pilot', pilotMagic);
  kernel.registerCellMagic('cu', cuMagic);
  kernel.onShutdown(() => service.close());
};
