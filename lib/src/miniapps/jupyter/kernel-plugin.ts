import { inspect } from 'node:util';
import {
  TO_MIME_BUNDLE,
  type KernelPlugin,
  type KernelServices,
  type MimeBundle
} from '../../kernel/api.js';
import { splitArguments } from '../../pilot/magic-arguments.js';
import type { Pilot } from '../../pilot/index.js';
import {
  masa,
  mass,
  runRecords,
  sweep,
  type MasaOptions,
  type MassOptions,
  type SweepOptions,
  type SweepResult
} from '../api.js';
import { MiniAppInputError } from '../errors.js';
import type { MiniAppRun } from '../runs/run.js';
import {
  MASA_FLAGS_USAGE,
  MASS_FLAGS_USAGE,
  parseMasaFlags,
  parseMassFlags
} from '../runs/flags.js';
import { runBundle } from './run-bundle.js';

/** How long the kernel's shutdown waits for its runs to stop (the kernel allows 5 s in all). */
const SHUTDOWN_STOP_MS = 4_000;

function usage(name: 'mass' | 'masa'): string {
  return `Usage:
  %${name} start --pilot <id> [flags]     start a run and show its live widget
  %${name} stop [<run id>]                stop a run (default: the newest of this kernel)
  %${name} status [<run id>]              show a run's live widget again
  %${name} list                           this kernel's runs
Flags:
${name === 'mass' ? MASS_FLAGS_USAGE : MASA_FLAGS_USAGE}`;
}

/** What a run shows as a cell's value: one line; its widget is displayed already. */
function describeRun(run: MiniAppRun): string {
  const view = run.view();
  return `MiniAppRun { ${view.role} ${view.kind}, id ${run.runId}, topic ${JSON.stringify(run.topic)}, ${view.state}${run.ended ? '' : '; .stop() ends it, await .done() waits for its end'} }`;
}

/** A sweep's result as a cell shows it: the table and the plot. */
function sweepView(result: SweepResult): SweepResult {
  Object.defineProperty(result, TO_MIME_BUNDLE, {
    value: (): MimeBundle => ({
      'text/markdown': result.table,
      'image/svg+xml': result.svg,
      'text/plain': result.table
    })
  });
  return result;
}

export const miniAppsKernelPlugin: KernelPlugin = kernel => {
  const runs: MiniAppRun[] = [];

  /** Shows the run's live widget in the current cell; it follows the run to its end. */
  function show(run: MiniAppRun): void {
    const handle = kernel.display(runBundle(run.view()));
    const onUpdate = (view: ReturnType<MiniAppRun['view']>) => handle.update(runBundle(view));
    run.on('update', onUpdate);
    void run.done().then(() => {
      handle.update(runBundle(run.view()));
      run.off('update', onUpdate);
    });
  }

  function track(run: MiniAppRun): MiniAppRun {
    runs.push(run);
    Object.defineProperty(run, TO_MIME_BUNDLE, {
      value: (): MimeBundle => ({ 'text/plain': describeRun(run) })
    });
    Object.defineProperty(run, inspect.custom, { value: () => describeRun(run) });
    show(run);
    return run;
  }

  function find(role: 'mass' | 'masa', id: string | undefined): MiniAppRun {
    const own = runs.filter(run => run.role === role);
    const run =
      id === undefined
        ? (own.filter(r => !r.ended).pop() ?? own.pop())
        : own.find(r => r.runId === id);
    if (run === undefined)
      throw new MiniAppInputError(
        id === undefined
          ? `no ${role.toUpperCase()} run in this kernel: start one with %${role} start`
          : `no ${role.toUpperCase()} run ${id} in this kernel (runs: ${own.map(r => r.runId).join(', ') || 'none'})`
      );
    return run;
  }

  function magic(role: 'mass' | 'masa') {
    return async (args: string, services: KernelServices): Promise<undefined> => {
      const [command, ...words] = splitArguments(args);
      switch (command) {
        case 'start': {
          const extra = { pilot: { type: 'string' } } as const;
          const parsed =
            role === 'mass' ? parseMassFlags(words, extra) : parseMasaFlags(words, extra);
          const pilot = parsed.values.pilot;
          if (typeof pilot !== 'string')
            throw new MiniAppInputError(`%${role} start: --pilot <id> is missing\n${usage(role)}`);
          if (parsed.positionals.length > 0)
            throw new MiniAppInputError(
              `%${role} start: unexpected ${parsed.positionals.join(' ')}\n${usage(role)}`
            );
          track(
            'source' in parsed.options
              ? await mass(pilot, parsed.options)
              : await masa(pilot, parsed.options)
          );
          return undefined;
        }
        case 'stop': {
          const summary = await find(role, words[0]).stop('stopped by the user');
          services.display({ 'text/plain': JSON.stringify(summary, null, 2) });
          return undefined;
        }
        case 'status':
          show(find(role, words[0]));
          return undefined;
        case 'list':
          services.display({
            'text/plain':
              runs
                .filter(run => run.role === role)
                .map(describeRun)
                .join('\n') || `no ${role.toUpperCase()} run in this kernel`
          });
          return undefined;
        case undefined:
        case 'help':
          services.display({ 'text/plain': usage(role) });
          return undefined;
        default:
          throw new MiniAppInputError(
            `%${role}: unknown command ${JSON.stringify(command)}\n${usage(role)}`
          );
      }
    };
  }

  kernel.registerLineMagic('mass', magic('mass'));
  kernel.registerLineMagic('masa', magic('masa'));
  kernel.defineGlobal('miniapps', {
    /** Starts MASS producers and shows the run's live widget. */
    mass: async (pilot: Pilot | string, options: MassOptions) => track(await mass(pilot, options)),
    /** Starts MASA consumers and shows the run's live widget. */
    masa: async (pilot: Pilot | string, options: MasaOptions) => track(await masa(pilot, options)),
    /** Shows a run's live widget (again). */
    show,
    /** This kernel's runs, oldest first. */
    get runs() {
      return [...runs];
    },
    /** The records of a pilot's finished runs (also those of earlier kernels). */
    records: (pilot: Pilot | string) => runRecords(pilot),
    /** Runs a grid of MASS + MASA runs; shows progress, then the table and plot. */
    sweep: async (pilot: Pilot | string, options: SweepOptions) => {
      const progress = kernel.display({ 'text/plain': 'sweep: starting the first point…' });
      const lines: string[] = [];
      const result = await sweep(pilot, options, (row, index, total) => {
        const point = Object.entries(row.point)
          .map(([key, value]) => `${key} ${value}`)
          .join(', ');
        lines.push(
          `${index + 1}/${total} ${point}: ${row.processedPerSecond.toFixed(1)} msg/s, lost ${row.lost} (${row.state})`
        );
        progress.update({ 'text/plain': lines.join('\n') });
      });
      return sweepView(result);
    }
  });
  kernel.onShutdown(async () => {
    const open = runs.filter(run => !run.ended);
    const timeout = new Promise(resolve => setTimeout(resolve, SHUTDOWN_STOP_MS).unref());
    await Promise.race([Promise.all(open.map(run => run.stop('the kernel shut down'))), timeout]);
  });
};
