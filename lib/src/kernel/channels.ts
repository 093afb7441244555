import { on, once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { Publisher, Router, type Socket } from 'zeromq';
import { endpoint, type Channel, type ConnectionInfo } from './connection.js';
import { asBuffers, type FromSocketThread, type ToSocketThread } from './socket-thread-messages.js';
import type { WireFrame } from './wire.js';

/** Where the kernel sends a message: a zeromq socket, or the control channel's thread. */
export interface FrameSink {
  send(frames: WireFrame[]): Promise<void>;
}

/**
 * Sends on one socket strictly one after another: zeromq allows only one pending send per socket,
 * and Jupyter clients rely on iopub order (busy, outputs, idle).
 */
export class SerialSender {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: FrameSink,
    private readonly onError: (error: unknown) => void
  ) {}

  send(frames: WireFrame[]): Promise<void> {
    const sent = this.tail.then(() => this.socket.send(frames));
    this.tail = sent.catch(this.onError);
    return this.tail;
  }

  /** Resolves once everything queued so far has been handed to zeromq. */
  drain(): Promise<void> {
    return this.tail;
  }
}

/** Longest the process waits, while exiting, for the socket thread to close its sockets. */
const SOCKET_THREAD_CLOSE_WAIT_MS = 2000;

/**
 * The control channel, served by the socket thread (socket-thread.ts) so that an interrupt
 * reaches a busy cell: the messages it forwards, in order, and the replies it sends.
 */
export class ControlChannel implements FrameSink, AsyncIterable<Buffer[]> {
  private readonly stopped = new AbortController();
  // Listening starts now: messages that arrive before the kernel reads them wait here.
  private readonly messages: AsyncIterator<unknown[]>;

  constructor(private readonly thread: Worker) {
    this.messages = on(thread, 'message', { signal: this.stopped.signal });
  }

  send(frames: WireFrame[]): Promise<void> {
    const message: ToSocketThread = { send: frames };
    this.thread.postMessage(message);
    return Promise.resolve();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer[]> {
    try {
      for (;;) {
        const next = await this.messages.next();
        if (next.done === true) return;
        const message = next.value[0] as FromSocketThread;
        if (message !== 'bound') yield asBuffers(message.control);
      }
    } catch (error) {
      if (!this.stopped.signal.aborted) throw error;
    }
  }

  /** Ends the iteration. */
  stop(): void {
    this.stopped.abort();
  }
}

/** The kernel's five sockets, bound to the addresses of the connection file. */
export class KernelChannels {
  readonly shell = new Router({ linger: 0 });
  readonly stdin = new Router({ linger: 0 });
  readonly iopub = new Publisher({ linger: 0 });
  private readonly closeOnExit = () => this.closeNow();

  private constructor(
    private readonly socketThread: Worker,
    readonly control: ControlChannel,
    /** Set to 1 by the socket thread once its sockets are closed. */
    private readonly socketThreadClosed: Int32Array
  ) {}

  /**
   * Binds the sockets; `interrupts` is the flag the socket thread raises for an
   * interrupt_request (see executor/rewrite.ts).
   */
  static async bind(
    info: ConnectionInfo,
    interrupts: Int32Array,
    onError: (error: unknown) => void
  ): Promise<KernelChannels> {
    const closed = new Int32Array(new SharedArrayBuffer(4));
    const thread = new Worker(new URL('./socket-thread.js', import.meta.url), {
      workerData: {
        heartbeatEndpoint: endpoint(info, 'hb'),
        controlEndpoint: endpoint(info, 'control'),
        key: info.key,
        signatureScheme: info.signature_scheme,
        closed,
        interrupts
      }
    });
    const bound = once(thread, 'message');
    const channels = new KernelChannels(thread, new ControlChannel(thread), closed);
    thread.on('error', onError);
    // process.exit() from anywhere (a cell, a plugin, a library) makes Node stop the socket
    // thread; zeromq aborts the process (SIGABRT, "terminate called after throwing an instance
    // of 'Napi::Error'") when that thread still holds an open socket. 'exit' handlers run
    // before the threads are stopped, so close everything there, synchronously.
    process.once('exit', channels.closeOnExit);
    const sockets: [Channel, Socket][] = [
      ['shell', channels.shell],
      ['stdin', channels.stdin],
      ['iopub', channels.iopub]
    ];
    for (const [channel, socket] of sockets) await socket.bind(endpoint(info, channel));
    await bound;
    return channels;
  }

  private closeSockets(): void {
    this.control.stop();
    for (const socket of [this.shell, this.stdin, this.iopub]) {
      if (!socket.closed) socket.close();
    }
  }

  /** For the 'exit' event: closes the sockets and blocks until the socket thread's are closed. */
  private closeNow(): void {
    this.closeSockets();
    if (Atomics.load(this.socketThreadClosed, 0) === 1) return;
    const close: ToSocketThread = 'close';
    this.socketThread.postMessage(close);
    // The socket thread runs its own event loop, so it answers while this thread waits.
    const result = Atomics.wait(this.socketThreadClosed, 0, 0, SOCKET_THREAD_CLOSE_WAIT_MS);
    if (result === 'timed-out') {
      process.stderr.write('[kernel] the socket thread did not close its sockets in time\n');
    }
  }

  async close(): Promise<void> {
    process.removeListener('exit', this.closeOnExit);
    this.closeSockets();
    // Terminating a worker that still holds a zeromq socket aborts the process: let it end.
    const exited = once(this.socketThread, 'exit');
    const close: ToSocketThread = 'close';
    this.socketThread.postMessage(close);
    const timer = setTimeout(() => void this.socketThread.terminate(), SOCKET_THREAD_CLOSE_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }
}
