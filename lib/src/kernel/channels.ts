import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Publisher, Router, type Socket } from 'zeromq';
import { endpoint, type Channel, type ConnectionInfo } from './connection.js';

/**
 * Sends on one socket strictly one after another: zeromq allows only one pending send per socket,
 * and Jupyter clients rely on iopub order (busy, outputs, idle).
 */
export class SerialSender {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Socket & { send(frames: Buffer[]): Promise<void> },
    private readonly onError: (error: unknown) => void
  ) {}

  send(frames: Buffer[]): Promise<void> {
    const sent = this.tail.then(() => this.socket.send(frames));
    this.tail = sent.catch(this.onError);
    return this.tail;
  }

  /** Resolves once everything queued so far has been handed to zeromq. */
  drain(): Promise<void> {
    return this.tail;
  }
}

/** Longest the process waits, while exiting, for the heartbeat thread to close its socket. */
const HEARTBEAT_CLOSE_WAIT_MS = 2000;

/** The kernel's five sockets, bound to the addresses of the connection file. */
export class KernelChannels {
  readonly shell = new Router({ linger: 0 });
  readonly control = new Router({ linger: 0 });
  readonly stdin = new Router({ linger: 0 });
  readonly iopub = new Publisher({ linger: 0 });
  private heartbeat: Worker | undefined;
  /** Set to 1 by the heartbeat thread once its socket is closed. */
  private readonly heartbeatClosed = new Int32Array(new SharedArrayBuffer(4));
  private readonly closeOnExit = () => this.closeNow();

  static async bind(info: ConnectionInfo, onError: (error: unknown) => void) {
    const channels = new KernelChannels();
    const sockets: [Channel, Socket][] = [
      ['shell', channels.shell],
      ['control', channels.control],
      ['stdin', channels.stdin],
      ['iopub', channels.iopub]
    ];
    for (const [channel, socket] of sockets) await socket.bind(endpoint(info, channel));
    channels.heartbeat = new Worker(new URL('./heartbeat-worker.js', import.meta.url), {
      workerData: { endpoint: endpoint(info, 'hb'), closed: channels.heartbeatClosed }
    });
    channels.heartbeat.on('error', onError);
    // process.exit() from anywhere (a cell, a plugin, a library) makes Node stop the heartbeat
    // thread; zeromq aborts the process (SIGABRT, "terminate called after throwing an instance
    // of 'Napi::Error'") when that thread still holds an open socket. 'exit' handlers run
    // before the threads are stopped, so close everything there, synchronously.
    process.once('exit', channels.closeOnExit);
    await once(channels.heartbeat, 'message');
    return channels;
  }

  private closeSockets(): void {
    for (const socket of [this.shell, this.control, this.stdin, this.iopub]) {
      if (!socket.closed) socket.close();
    }
  }

  /** For the 'exit' event: closes the sockets and blocks until the heartbeat's is closed too. */
  private closeNow(): void {
    this.closeSockets();
    if (this.heartbeat === undefined || Atomics.load(this.heartbeatClosed, 0) === 1) return;
    this.heartbeat.postMessage('close');
    // The heartbeat thread runs its own event loop, so it answers while this thread waits.
    const result = Atomics.wait(this.heartbeatClosed, 0, 0, HEARTBEAT_CLOSE_WAIT_MS);
    if (result === 'timed-out') {
      process.stderr.write('[kernel] the heartbeat thread did not close its socket in time\n');
    }
  }

  async close(): Promise<void> {
    process.removeListener('exit', this.closeOnExit);
    this.closeSockets();
    if (this.heartbeat) {
      // Terminating a worker that still holds a zeromq socket aborts the process: let it end.
      const exited = once(this.heartbeat, 'exit');
      this.heartbeat.postMessage('close');
      const timer = setTimeout(() => void this.heartbeat?.terminate(), 2000);
      await exited;
      clearTimeout(timer);
    }
  }
}
