import type { Command } from 'commander';
import {
  DEFAULT_KERNEL_NAME,
  installKernelspec,
  parseEnvAssignments,
  removeKernelspec
} from '../kernel/kernelspec.js';

interface LocationOptions {
  prefix?: string;
  user?: boolean;
  name: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `pilot-streaming kernel install|remove`: the Jupyter kernelspec of our TypeScript kernel. */
export function addKernelCommands(program: Command): void {
  const kernel = program
    .command('kernel')
    .description('The Pilot-Streaming TypeScript Jupyter kernel');
  kernel
    .command('install')
    .description('Install the kernelspec (default: into the user Jupyter data directory)')
    .option('--prefix <dir>', 'install into <dir>/share/jupyter/kernels (e.g. a virtualenv)')
    .option('--user', 'install into the user Jupyter data directory')
    .option('--name <name>', 'kernelspec name', DEFAULT_KERNEL_NAME)
    .option('--env <KEY=VALUE>', 'environment variable for the kernel (repeatable)', collect, [])
    .action(async (options: LocationOptions & { env: string[] }) => {
      const env = parseEnvAssignments(options.env);
      const dir = await installKernelspec(options, env);
      console.log(`Installed kernelspec ${options.name} in ${dir}`);
    });
  kernel
    .command('remove')
    .description('Remove the kernelspec')
    .option('--prefix <dir>', 'remove from <dir>/share/jupyter/kernels')
    .option('--user', 'remove from the user Jupyter data directory')
    .option('--name <name>', 'kernelspec name', DEFAULT_KERNEL_NAME)
    .action(async (options: LocationOptions) => {
      const dir = await removeKernelspec(options);
      console.log(`Removed kernelspec ${options.name} from ${dir}`);
    });
}
