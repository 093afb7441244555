#!/usr/bin/env node
/** Kernel entry point, as a kernelspec's argv runs it: `node main.js <connection_file>`. */
import v8 from 'node:v8';
import { readConnectionFile } from './connection.js';
import { Kernel } from './kernel.js';
import { logKernel } from './log.js';
import { watchParent } from './parent-watch.js';

const connectionFile = process.argv[2];
if (connectionFile === undefined) {
  logKernel('usage: main.js <connection_file>');
  process.exit(2);
}
// Every cell is compiled once from a new source; V8's compilation cache (meant for sources that
// are compiled again and again) would keep each of them for the life of the kernel, about 1 KB
// per cell. The flag is read at each compilation, so setting it here takes effect.
v8.setFlagsFromString('--no-compilation-cache');
try {
  const kernel = new Kernel(await readConnectionFile(connectionFile), {
    onExit: code => process.exit(code)
  });
  // The plugins (and the library behind them) load only once the sockets and the heartbeat are
  // up: loading them takes about a second, and a client that hears no heartbeat for a second
  // calls the kernel dead.
  await kernel.start(async () => (await import('./plugins.js')).kernelPlugins);
  watchParent(why => {
    logKernel(`${why}: shutting down`);
    void kernel.shutdown(false);
  });
} catch (error) {
  logKernel('failed to start', error);
  process.exit(1);
}
