import { posix } from 'node:path';
import type { Command } from 'commander';
import { frameworkManager } from '../frameworks/index.js';
import { plaintextWarning } from '../frameworks/kafka/server-config.js';
import { DASK_TLS_DIR } from '../frameworks/dask/tls.js';
import { TLS_DIR } from '../frameworks/kafka/tls.js';
import { CONNECT_TOKEN_FILE, SPARK_DIR } from '../frameworks/spark/bootstrap.js';
import { FLINK_TLS_DIR } from '../frameworks/flink/tls.js';
import { SPARK_TLS_DIR } from '../frameworks/spark/tls.js';
import { PilotComputeService } from '../pilot/index.js';
import {
  formatDamagedRecords,
  formatPilotTable,
  formatUncheckedPilots
} from '../pilot/pilot-table.js';
import {
  endpointOf,
  PILOT_TYPES,
  ValidationError,
  numberOrText,
  type FrameworkDetails,
  type PilotDescriptionInput,
  type PilotType
} from '../protocol/index.js';
import { CreateInterrupts, followStart, keepsRunning } from './pilot-start.js';
import { ProgressDisplay } from './progress-display.js';

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

interface CreateOptions {
  type?: string;
  resource?: string;
  name?: string;
  config: string[];
  walltime?: string;
  queue?: string;
  project?: string;
  reservation?: string;
  nodes?: string;
  cores?: string;
  parent?: string;
  wait: boolean;
  timeout: string;
}

export function addPilotCommands(program: Command): void {
  program
    .command('create')
    .description(
      'Create a pilot and (by default) wait until it is Running; Ctrl-C stops waiting and leaves it running, a second Ctrl-C cancels it'
    )
    .option('--type <type>', `framework to bring up (${PILOT_TYPES.join(', ')})`)
    .option('--resource <url>', 'where to run it, e.g. fork://localhost')
    .option('--name <name>', 'a name to recognise it by')
    .option('--config <key=value>', 'framework configuration (repeatable)', collect, [])
    .option('--walltime <minutes>', 'stop the pilot after this many minutes')
    .option('--nodes <n>', 'number of nodes (slurm:// and slurm+ssh:// allocate several)')
    .option('--cores <n>', "cores per node (Flink: task slots; the framework's default otherwise)")
    .option('--parent <id>', 'a Running pilot of the same type whose cluster this one extends')
    .option('--queue <partition>', 'SLURM partition (slurm:// and slurm+ssh:// only)')
    .option('--project <account>', 'SLURM account to charge (slurm:// and slurm+ssh:// only)')
    .option('--reservation <name>', 'SLURM reservation (slurm:// and slurm+ssh:// only)')
    .option('--no-wait', 'return once launched instead of waiting for Running')
    .option('--timeout <seconds>', 'how long to wait for Running (the pilot keeps running)', '300')
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
      if (options.nodes !== undefined) input.numberOfNodes = numberOrText(options.nodes);
      if (options.cores !== undefined) input.coresPerNode = numberOrText(options.cores);
      // Passed on as given: the description says where they apply (batch schedulers only).
      for (const key of ['parent', 'queue', 'project', 'reservation'] as const) {
        if (options[key] !== undefined) input[key] = options[key];
      }
      const service = new PilotComputeService();
      const display = new ProgressDisplay();
      // Installed before the launch, so a Ctrl-C during it still learns the pilot's id.
      const interrupts = new CreateInterrupts();
      try {
        const pilot = await service.createPilot(input as PilotDescriptionInput, {
          onProgress: progress => display.update(progress)
        });
        interrupts.launched(pilot);
        // The id comes first, on stderr (stdout keeps the one result line): never a lost pilot.
        display.note(
          `${pilot.id} launched on ${pilot.description.resource}` +
            (options.wait ? '; waiting until it is Running (Ctrl-C stops waiting)' : '')
        );
        if (!options.wait) {
          display.stop();
          process.stdout.write(`${pilot.id} ${pilot.state}\n`);
          if (interrupts.interrupted) process.exitCode = 130;
          return;
        }
        const outcome = interrupts.interrupted
          ? 'interrupted'
          : await followStart(pilot, display, {
              timeoutMs: timeoutSeconds * 1000,
              signal: interrupts.signal
            });
        if (outcome === 'interrupted') {
          display.stop();
          const state = await interrupts.leaveOrCancel(pilot);
          process.stdout.write(`${pilot.id} ${state}\n`);
          process.exitCode = 130;
          return;
        }
        if (outcome === 'timed out') {
          process.stderr.write(`${keepsRunning(pilot)}\n`);
          process.stdout.write(`${pilot.id} ${pilot.state}\n`);
          process.exitCode = 1;
          return;
        }
        const details = await pilot.details();
        process.stderr.write(`${securityNote(pilot.id, details, pilot.record.workDir)}\n`);
        process.stdout.write(`${pilot.id} Running ${endpointOf(details)}\n`);
      } finally {
        interrupts.dispose();
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
        const { pilots, damaged, unchecked } = await service.inventory();
        process.stdout.write(`${formatPilotTable(pilots.map(pilot => pilot.record))}\n`);
        // The table stays parseable; what could not be read or checked is flagged on stderr.
        if (damaged.length > 0) process.stderr.write(`${formatDamagedRecords(damaged)}\n`);
        if (unchecked.length > 0) process.stderr.write(`${formatUncheckedPilots(unchecked)}\n`);
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
        const canceled = await service.cancelPilot(id);
        const note = canceled.alreadyEnded
          ? ' (it had already ended)'
          : canceled.damaged !== undefined
            ? ` (its processes are stopped; its record stays damaged: ${canceled.damaged.file}: ${canceled.damaged.problem})`
            : '';
        process.stdout.write(`${canceled.id} ${canceled.state}${note}\n`);
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

/** How clients of other programs reach a Running pilot (paths only, no secret). */
function securityNote(id: string, details: FrameworkDetails, workDir: string | undefined): string {
  if (details.security !== 'tls') return `Warning: ${plaintextWarning(id)}`;
  const within = (dir: string): string =>
    workDir !== undefined ? posix.join(workDir, dir) : `the pilot's ${dir}`;
  const files = '(ca.pem, client.pem, client-key.pem)';
  switch (details.type) {
    case 'kafka':
      return `Its brokers take TLS clients with its certificate only: ${within(TLS_DIR)} ${files}`;
    case 'dask':
      return `Its scheduler and workers take TLS clients with its certificate only: ${within(DASK_TLS_DIR)} ${files}`;
    case 'spark':
      return `Spark Connect and the web UIs take TLS clients with its certificate only: ${within(SPARK_TLS_DIR)} ${files}; Spark Connect also wants the token in ${within(posix.join(SPARK_DIR, CONNECT_TOKEN_FILE))}`;
    case 'flink':
      return `The SQL Gateway and the JobManager's REST API and UI take TLS clients with its certificate only: ${within(FLINK_TLS_DIR)} ${files}`;
  }
}
