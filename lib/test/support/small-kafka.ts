import type { PilotDescriptionInput } from '../../src/protocol/index.js';

/**
 * A fork:// Kafka pilot as small as it goes, for tests that start many or only need one running:
 * a small heap, no log cleaner (its dedupe buffer alone is 128 MiB) and few threads, so that
 * many brokers start at once on a few cores.
 */
export const smallKafkaPilot = {
  type: 'kafka',
  resource: 'fork://localhost',
  walltimeMinutes: 30,
  configuration: {
    'pilot.heap': '128m',
    'log.cleaner.enable': 'false',
    'num.network.threads': '1',
    'num.io.threads': '1',
    'background.threads': '1',
    'num.recovery.threads.per.data.dir': '1'
  }
} as const satisfies PilotDescriptionInput;

/** The same as `pilot-streaming create` options. */
export const smallKafkaCliOptions = [
  '--type',
  'kafka',
  '--resource',
  'fork://localhost',
  '--walltime',
  '30',
  ...Object.entries(smallKafkaPilot.configuration).flatMap(([key, value]) => [
    '--config',
    `${key}=${value}`
  ])
];
