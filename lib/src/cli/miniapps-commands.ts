import type { Command } from 'commander';
import { masa, mass, type MiniAppRun, type RunSummary } from '../miniapps/api.js';
import {
  MASA_FLAGS_USAGE,
  MASS_FLAGS_USAGE,
  parseMasaFlags,
  parseMassFlags
} from '../miniapps/runs/flags.js';
import { PilotComputeService } from '../pilot/index.js';
import type { MiniAppRunView } from '../protocol/miniapps.js';

/** A progress line per second on a terminal, one per 10 s in logs. */
const TTY_PROGRESS_MS = 1_000;
const LOG_PROGRESS_MS = 10_000;

function progressLine(view: MiniAppRunView): string {
  const { totals } = view;
  const last = view.history[view.history.length - 1];
  const rate =
    view.role === 'mass'
      ? `${(last?.producedPerSecond ?? 0).toFixed(1)} msg/s`
      : `${(last?.processedPerSecond ?? 0).toFixed(1)} msg/s`;
  const latency = view.latency
    ? `, p50 ${view.latency.p50Ms.toFixed(1)} ms, p99 ${view.latency.p99Ms.toFixed(1)} ms`
    : '';
  return view.role === 'mass'
    ? `${view.state}: produced ${totals.produced} (${rate})`
    : `${view.state}: processed ${totals.processed} of ${totals.produced} produced (${rate}), lost ${totals.lost}, duplicated ${totals.duplicated}${latency}`;
}

function summaryText(summary: RunSummary): string {
  const lines = [
    `${summary.role.toUpperCase()} run ${summary.runId} (${summary.kind}, topic ${summary.topic}): ${summary.state}${summary.reason ? ` — ${summary.reason}` : ''}`,
    `  produced ${summary.produced} (${summary.producedPerSecond.toFixed(1)} msg/s, ${summary.producedMBPerSecond.toFixed(2)} MB/s)`,
    `  processed ${summary.processed} (${summary.processedPerSecond.toFixed(1)} msg/s, ${summary.processedMBPerSecond.toFixed(2)} MB/s), lost ${summary.lost}, duplicated ${summary.duplicated}, errors ${summary.errors}`
  ];
  if (summary.latencyMs !== null)
    lines.push(
      `  latency p50 ${summary.latencyMs.p50.toFixed(1)} ms, p95 ${summary.latencyMs.p95.toFixed(1)} ms, p99 ${summary.latencyMs.p99.toFixed(1)} ms`
    );
  if (summary.record !== null) lines.push(`  record ${summary.record.recordPath}`);
  return lines.join('\n');
}

/**
 * Follows a run to its end: progress on stderr, Ctrl-C stops it gracefully (a second one leaves
 * at once, saying what keeps running), the summary on stdout (JSON with --json).
 */
async function follow(run: MiniAppRun, json: boolean): Promise<void> {
  const interactive = process.stderr.isTTY === true;
  let lastPrint = 0;
  run.on('update', view => {
    const now = Date.now();
    if (now - lastPrint < (interactive ? TTY_PROGRESS_MS : LOG_PROGRESS_MS)) return;
    lastPrint = now;
    process.stderr.write(
      interactive ? `\r\x1b[2K${progressLine(view)}` : `${progressLine(view)}\n`
    );
  });
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\nstopping run ${run.runId} (Ctrl-C again to leave at once)\n`);
      void run.stop('stopped by the user');
    } else {
      process.stderr.write(
        `\nleaving; the run's units may still be running on the pilot (see "pilot-streaming show <pilot>")\n`
      );
      process.exit(130);
    }
  };
  process.on('SIGINT', onInterrupt);
  process.stderr.write(
    `${run.role.toUpperCase()} run ${run.runId} started on topic ${run.topic}\n`
  );
  try {
    const summary = await run.done();
    if (interactive) process.stderr.write('\n');
    process.stdout.write(
      json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryText(summary)}\n`
    );
    if (summary.state === 'failed') process.exitCode = 1;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

const EXTRA = { json: { type: 'boolean' } } as const;

function addRunCommand(
  program: Command,
  name: 'mass' | 'masa',
  description: string,
  usage: string
): void {
  program
    .command(name)
    .description(description)
    .usage(`<pilot-id> [flags] [--json]\n\n${usage}\n  --json   print the run's summary as JSON`)
    .argument('[args...]')
    .allowUnknownOption()
    .helpOption('-h, --help')
    .action(async (words: string[]) => {
      // Checked before anything connects, so a bad flag costs nothing.
      const parsed = name === 'mass' ? parseMassFlags(words, EXTRA) : parseMasaFlags(words, EXTRA);
      if (parsed.positionals.length !== 1)
        throw new Error(
          `pilot-streaming ${name}: expected one pilot id, got ${parsed.positionals.length === 0 ? 'none' : parsed.positionals.join(' ')}`
        );
      const pilotId = parsed.positionals[0]!;
      const service = new PilotComputeService();
      try {
        const run =
          'source' in parsed.options
            ? await mass(pilotId, parsed.options, service)
            : await masa(pilotId, parsed.options, service);
        await follow(run, parsed.values.json === true);
      } finally {
        await service.close();
      }
    });
}

export function addMiniAppCommands(program: Command): void {
  addRunCommand(
    program,
    'mass',
    'Run MASS producers on a Kafka pilot until they have sent --messages or --duration (or Ctrl-C)',
    MASS_FLAGS_USAGE
  );
  addRunCommand(
    program,
    'masa',
    'Run MASA consumers on a Kafka pilot; with --until drained they end once every producer has ended and all it sent is processed',
    MASA_FLAGS_USAGE
  );
}
