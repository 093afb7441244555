import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { frameworkManager } from '../frameworks/index.js';
import type { Progress } from '../frameworks/plugin.js';
import { PilotComputeService, type Pilot } from '../pilot/index.js';
import { formatPilotTable } from '../pilot/pilot-table.js';
import {
  PILOT_TYPES,
  ValidationError,
  isTerminal,
  type PilotDescriptionInput,
  type PilotType
} from '../protocol/index.js';

/** Shows progress: a bar on a terminal, one line per new stage otherwise (logs, CI). */
class ProgressDisplay {
  private bar: SingleBar | undefined;
  private lastStage = '';
  private lastPrinted = 0;

  constructor() {
    if (process.stderr.isTTY) {
      this.bar = new SingleBar({
        format: '{bar} {percentage}% | {stage}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false
      });
      this.bar.start(100, 0, { stage: 'Starting' });
    }
  }

  update(progress: Progress): void {
    if (this.bar !== undefined) {
      const value =
        progress.fraction !== undefined ? Math.round(progress.fraction * 100) : undefined;
      if (value !== undefined) this.bar.update(value, { stage: progress.stage });
      else this.bar.update({ stage: progress.stage });
    } else if (progress.stage !== this.lastStage) {
      // In a log, a stage's running details (e.g. files fetched) at most every 2 s.
      const head = progress.stage.split(':')[0];
      if (head !== this.lastStage.split(':')[0] || Date.now() - this.lastPrinted >= 2000) {
        process.stderr.write(`${progress.stage}\n`);
        this.lastPrinted = Date.now();
      }
    }
    this.lastStage = progress.stage;
  }

  stop(): void {
    this.bar?.stop();
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `key=value` pairs of --config; numbers and booleans stay strings (Kafka reads strings). */
export function parseConfigPairs(pairs: readonly string[]): Record<string, string> {
  const configuration: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) {
      throw new ValidationError('--config option', [
        { key: '--config', value: pair, expected: 'key=value, e.g. --config num.partitions=3' }
      ]);
    }
    configuration[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return configuration;
}

/** A number when the text is one, else the text (the schema then names what is wrong). */
function numberOrText(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** Follows a starting pilot's progress until it is Running (or ends, or time runs out). */
async function followStart(
  pilot: Pilot,
  display: ProgressDisplay,
  timeoutMs: number
): Promise<void> {
  const poll = setInterval(() => {
    const progress = pilot.record.progress;
    if (progress !== undefined) display.update(progress);
  }, 200);
  try {
    await pilot.wait('Running', { timeoutMs });
    display.update({ stage: 'Running', fraction: 1 });
  } finally {
    clearInterval(poll);
    display.stop();
  }
}

interface CreateOptions {
  type?: string;
  resource?: string;
  name?: string;
  config: string[];
  walltime?: string;
  wait: boolean;
  timeout: string;
}

export function addPilotCommands(program: Command): void {
  program
    .command('create')
    .description('Create a pilot and (by default) wait until it is Running')
    .option('--type <type>', `framework to bring up (${PILOT_TYPES.join(', ')})`)
    .option('--resource <url>', 'where to run it, e.g. fork://localhost')
    .option('--name <name>', 'a name to recognise it by')
    .option('--config <key=value>', 'framework configuration (repeatable)', collect, [])
    .option('--walltime <minutes>', 'stop the pilot after this many minutes')
    .option('--no-wait', 'return once launched instead of waiting for Running')
    .option('--timeout <seconds>', 'how long to wait for Running', '300')
    .action(async (options: CreateOptions) => {
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
        throw new ValidationError('--timeout option', [
          { key: '--timeout', value: options.timeout, expected: 'a positive number of seconds' }
        ]);
      }
      const input: Record<string, unknown> = {
        type: options.type,
        resource: options.resource,
        configuration: parseConfigPairs(options.config)
      };
      if (options.name !== undefined) input.name = options.name;
      if (options.walltime !== undefined) input.walltimeMinutes = numberOrText(options.walltime);
      const service = new PilotComputeService();
      const display = new ProgressDisplay();
      try {
        const pilot = await service.createPilot(input as PilotDescriptionInput, {
          onProgress: progress => display.update(progress)
        });
        if (!options.wait) {
          display.stop();
          process.stdout.write(`${pilot.id} ${pilot.state}\n`);
          return;
        }
        await followStart(pilot, display, timeoutSeconds * 1000);
        const details = await pilot.details();
        process.stdout.write(`${pilot.id} Running ${details.bootstrapServers.join(',')}\n`);
      } finally {
        display.stop();
        await service.close();
      }
    });

  program
    .command('list')
    .description('List the pilots in the registry')
    .action(async () => {
      const service = new PilotComputeService();
      try {
        const pilots = await service.listPilots();
        process.stdout.write(`${formatPilotTable(pilots.map(pilot => pilot.record))}\n`);
      } finally {
        await service.close();
      }
    });

  program
    .command('show <id>')
    .description("Show a pilot's record (state, history, details) as JSON")
    .action(async (id: string) => {
      const service = new PilotComputeService();
      try {
        const pilot = await service.getPilot(id);
        process.stdout.write(`${JSON.stringify(pilot.record, null, 2)}\n`);
      } finally {
        await service.close();
      }
    });

  program
    .command('cancel <id>')
    .description('Stop a pilot (gracefully, then by force) and wait until nothing of it is left')
    .action(async (id: string) => {
      const service = new PilotComputeService();
      try {
        const pilot = await service.getPilot(id);
        const wasEnded = isTerminal(pilot.state);
        await pilot.cancel();
        const note = wasEnded ? ' (it had already ended)' : '';
        process.stdout.write(`${pilot.id} ${pilot.state}${note}\n`);
      } finally {
        await service.close();
      }
    });

  program
    .command('prepare <type>')
    .description('Fetch and cache what a framework needs (e.g. the Kafka distribution)')
    .action(async (type: string) => {
      if (!(PILOT_TYPES as readonly string[]).includes(type)) {
        throw new ValidationError('prepare argument', [
          { key: 'type', value: type, expected: `one of ${PILOT_TYPES.join(', ')}` }
        ]);
      }
      const service = new PilotComputeService();
      const display = new ProgressDisplay();
      try {
        await frameworkManager(type as PilotType, { cacheDir: service.cacheDir }).prepare(
          progress => display.update(progress)
        );
        display.update({ stage: `${type} is ready in ${service.cacheDir}`, fraction: 1 });
      } finally {
        display.stop();
        await service.close();
      }
    });
}
