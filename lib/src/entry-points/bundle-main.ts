/**
 * The entry of the bundled library (dist/bundle/pilot-streaming.mjs, see scripts/bundle.mjs):
 * `node pilot-streaming.mjs <role> ...` runs that role's program as its compiled module would,
 * with the role taken off process.argv. Worker threads start the same way (role in `argv`).
 */
import { fileURLToPath } from 'node:url';
import { ENTRY_MODULES, isEntryRole, markBundle, type EntryRole } from './roles.js';

// Literal imports, so that the bundler includes each program (loaded only when its role runs).
const programs: Record<EntryRole, () => Promise<unknown>> = {
  supervisor: () => import('../pilot/supervisor/main.js'),
  agent: () => import('../agent/main.js'),
  'free-ports': () => import('../allocation/free-ports-main.js'),
  'function-worker': () => import('../agent/function-worker.js'),
  'miniapps-unit': () => import('../miniapps/unit-main.js'),
  'slice-worker': () => import('../recon/workers/slice-worker.js')
};

const role = process.argv[2] ?? '';
if (!isEntryRole(role)) {
  process.stderr.write(
    `usage: pilot-streaming.mjs <role> ...; role ${JSON.stringify(role)} is not one of ${Object.keys(ENTRY_MODULES).join(', ')}\n`
  );
  process.exit(2);
}
process.argv.splice(2, 1);
markBundle(fileURLToPath(import.meta.url));
await programs[role]();
