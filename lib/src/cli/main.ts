#!/usr/bin/env node
import { Command } from 'commander';
import { addDashboardCommand } from './dashboard-command.js';
import { addKernelCommands } from './kernel-commands.js';
import { addMiniAppCommands } from './miniapps-commands.js';
import { addPilotCommands } from './pilot-commands.js';
import { addReconCommand } from './recon-command.js';
import { addScistreamCommands } from './scistream-commands.js';

const program = new Command('pilot-streaming')
  .description('Pilots for streaming frameworks on local machines, SSH hosts and SLURM clusters')
  .showHelpAfterError();

addPilotCommands(program);
addKernelCommands(program);
addScistreamCommands(program);
addReconCommand(program);
addMiniAppCommands(program);
addDashboardCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
