/**
 * Entry point of a pilot's supervisor process, started detached by a resource adaptor:
 * `node supervisor/main.js <pilot id>` with PILOT_STREAMING_HOME and PILOT_STREAMING_CACHE set.
 */
import { defaultPilotCache, defaultPilotHome } from '../environment.js';
import { runSupervisor } from './supervisor.js';

const pilotId = process.argv[2];
if (pilotId === undefined || !/^pilot-[a-z0-9]{12}$/.test(pilotId)) {
  process.stderr.write(`usage: supervisor <pilot id>; got ${JSON.stringify(pilotId)}\n`);
  process.exit(2);
}

runSupervisor({ pilotId, home: defaultPilotHome(), cacheDir: defaultPilotCache() }).then(
  code => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `supervisor of ${pilotId} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
    );
    process.exit(1);
  }
);
