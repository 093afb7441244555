import { Command } from 'commander';
import { addScistreamCommands } from '../../../src/cli/scistream-commands.js';

// The s2cs/s2uc commands alone, bundled by the tests so gateways run as real processes.
const program = new Command('scistream').showHelpAfterError();
addScistreamCommands(program);
program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
