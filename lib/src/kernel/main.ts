#!/usr/bin/env node
/** Kernel entry point, as a kernelspec's argv runs it: `node main.js <connection_file>`. */
import { readConnectionFile } from './connection.js';
import { Kernel } from './kernel.js';
import { logKernel } from './log.js';
import { kernelPlugins } from './plugins.js';

const connectionFile = process.argv[2];
if (connectionFile === undefined) {
  logKernel('usage: main.js <connection_file>');
  process.exit(2);
}
try {
  const kernel = new Kernel(await readConnectionFile(connectionFile), {
    onExit: code => process.exit(code)
  });
  await kernel.start(kernelPlugins);
} catch (error) {
  logKernel('failed to start', error);
  process.exit(1);
}
