/**
 * Heartbeat echo on its own thread, so the kernel keeps answering heartbeats while a cell runs a
 * long synchronous computation (as IPython's heartbeat thread does).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Reply } from 'zeromq';

const { endpoint, closed } = workerData as { endpoint: string; closed: Int32Array };
const socket = new Reply({ linger: 0 });
// Listen for 'close' before anything else: the main thread may ask while we still bind.
parentPort?.on('message', (message: unknown) => {
  if (message !== 'close') return;
  socket.close();
  parentPort?.close();
  // The main thread may be blocked waiting for this (its 'exit' handler): wake it.
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
});
await socket.bind(endpoint);
parentPort?.postMessage('bound');
try {
  for await (const frames of socket) await socket.send(frames);
} catch (error) {
  // A closed socket ends the loop; anything else is worth seeing on stderr.
  if (!socket.closed) process.stderr.write(`[kernel] heartbeat failed: ${String(error)}\n`);
}
