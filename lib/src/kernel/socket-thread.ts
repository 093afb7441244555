/**
 * The sockets that must answer while a cell runs a long synchronous computation live on their
 * own thread, as IPython's heartbeat and control threads do: the heartbeat echo, and the control
 * channel. An interrupt_request raises the interrupt flag here at once, which the loops of a busy
 * cell check (see executor/rewrite.ts); every control message then goes on to the main thread,
 * which handles it and hands back the replies to send.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Reply, Router } from 'zeromq';
import { MessageSigner, decodeMessage } from './wire.js';
import { asWireFrames, type ToSocketThread } from './socket-thread-messages.js';

const { heartbeatEndpoint, controlEndpoint, key, signatureScheme, closed, interrupts } =
  workerData as {
    heartbeatEndpoint: string;
    controlEndpoint: string;
    key: string;
    signatureScheme: string;
    closed: Int32Array;
    interrupts: Int32Array;
  };
const signer = new MessageSigner(key, signatureScheme);
const heartbeat = new Reply({ linger: 0 });
const control = new Router({ linger: 0 });
// zeromq allows one pending send per socket: replies go out one after another.
let sending = Promise.resolve();

// Listen before anything else: the main thread may ask to close while we still bind.
parentPort?.on('message', (message: ToSocketThread) => {
  if (message === 'close') {
    heartbeat.close();
    control.close();
    parentPort?.close();
    // The main thread may be blocked waiting for this (its 'exit' handler): wake it.
    Atomics.store(closed, 0, 1);
    Atomics.notify(closed, 0);
    return;
  }
  const frames = asWireFrames(message.send);
  sending = sending
    .then(() => control.send(frames))
    .catch((error: unknown) => report('sending a control reply failed', error));
});

function report(what: string, error: unknown): void {
  // A closed socket ends the loops; anything else is worth seeing on stderr.
  if (!heartbeat.closed && !control.closed)
    process.stderr.write(`[kernel] ${what}: ${String(error)}\n`);
}

/** Only a correctly signed interrupt_request raises the flag; the main thread judges the rest. */
function isInterruptRequest(frames: Buffer[]): boolean {
  try {
    return decodeMessage(frames, signer).header.msg_type === 'interrupt_request';
  } catch {
    return false;
  }
}

async function echoHeartbeats(): Promise<void> {
  try {
    for await (const frames of heartbeat) await heartbeat.send(frames);
  } catch (error) {
    report('heartbeat failed', error);
  }
}

async function forwardControl(): Promise<void> {
  try {
    for await (const frames of control) {
      if (isInterruptRequest(frames)) Atomics.add(interrupts, 0, 1);
      parentPort?.postMessage({ control: frames });
    }
  } catch (error) {
    report('receiving on control failed', error);
  }
}

await heartbeat.bind(heartbeatEndpoint);
await control.bind(controlEndpoint);
parentPort?.postMessage('bound');
await Promise.all([echoHeartbeats(), forwardControl()]);
