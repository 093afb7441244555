import type { KernelPlugin, KernelServices } from '../kernel/api.js';
import { summarize, type PilotRecord } from '../protocol/index.js';
import { cuMagic } from './cu-magic.js';
import { getDefaultPilotService } from './index.js';
import { parsePilotMagic, PILOT_MAGIC_USAGE } from './magic-arguments.js';
import { age, formatPilotTable } from './pilot-table.js';

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
      const records = (await service.listPilots()).map(pilot => pilot.record);
      kernel.display({ 'text/plain': formatPilotTable(records), 'text/html': htmlTable(records) });
      return undefined;
    }
    case 'show':
      kernel.display(recordBundle((await service.getPilot(command.id)).record));
      return undefined;
    case 'cancel': {
      const pilot = await service.getPilot(command.id);
      await pilot.cancel();
      kernel.display({ 'text/plain': `${pilot.id} ${pilot.state}` });
      return undefined;
    }
    case 'create': {
      const pilot = await service.createPilot(command.input);
      const line = (text: string) => ({ 'text/plain': `${pilot.id} ${text}` });
      const status = kernel.display(line(`${pilot.state} on ${pilot.description.resource}`));
      if (!command.wait) return undefined;
      // The cell's line follows the start-up stages until the pilot is Running.
      const poll = setInterval(() => {
        const progress = pilot.record.progress;
        if (progress !== undefined) status.update(line(`${pilot.state}: ${progress.stage}`));
      }, 300);
      try {
        await pilot.wait(
          'Running',
          command.timeoutMs !== undefined ? { timeoutMs: command.timeoutMs } : {}
        );
      } catch (error) {
        status.update(
          line(
            `${pilot.state}${pilot.record.reason !== undefined ? `: ${pilot.record.reason}` : ''}`
          )
        );
        throw error;
      } finally {
        clearInterval(poll);
      }
      const details = await pilot.details();
      status.update(line(`Running, bootstrap servers ${details.bootstrapServers.join(',')}`));
      return undefined;
    }
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
