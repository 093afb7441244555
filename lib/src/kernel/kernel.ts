import { AsyncLocalStorage } from 'node:async_hooks';
import { Console } from 'node:console';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import vm from 'node:vm';
import { version as esbuildVersion } from 'esbuild';
import type {
  CellMagicBody,
  CellMagicHandler,
  CommTargetHandler,
  DisplayHandle,
  KernelComm,
  KernelPlugin,
  KernelServices,
  LineMagicHandler,
  MimeBundle
} from './api.js';
import { KernelChannels, SerialSender } from './channels.js';
import { CommManager } from './comms.js';
import type { ConnectionInfo } from './connection.js';
import { toMimeBundle } from './display.js';
import { CellError, Executor } from './executor/executor.js';
import {
  codePointsToOffset,
  complete,
  describeAt,
  offsetToCodePoints
} from './executor/introspection.js';
import { UsageError, replaceMagics } from './executor/magics.js';
import { checkCompleteness } from './executor/transpile.js';
import { CURRENT_SESSION, queryHistory, type HistoryEntry } from './history.js';
import { logKernel } from './log.js';
import { loadPlugins } from './plugin-loading.js';
import {
  InvalidSignatureError,
  MessageSigner,
  PROTOCOL_VERSION,
  createHeader,
  decodeMessage,
  encodeMessage,
  type JupyterMessage,
  type MessageHeader
} from './wire.js';

const { version: libraryVersion } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
};

type Content = Record<string, unknown>;
type Parent = MessageHeader | Record<string, never>;

/** The request being handled: its output, displays and comms carry its header as parent. */
interface RequestScope {
  message: JupyterMessage;
}

/** Longest a shutdown waits for plugins' cleanup hooks. */
const SHUTDOWN_HOOK_TIMEOUT_MS = 5000;
/** Stream text is batched per cell and flushed at the latest after this much text. */
const STREAM_FLUSH_BYTES = 64 * 1024;

type Handler = (message: JupyterMessage, socket: SerialSender) => Promise<void>;

function checkMagicName(name: string): string {
  if (!/^[A-Za-z_][\w.-]*$/.test(name)) {
    throw new Error(`magic name ${JSON.stringify(name)} must match [A-Za-z_][\\w.-]*`);
  }
  return name;
}

function unknownMagic(magic: string, known: Map<string, unknown>, prefix: string): UsageError {
  const names = [...known.keys()].map(name => prefix + name).join(', ') || 'none';
  return new UsageError(`${magic} not found (known: ${names})`);
}

/** Indentation for the line after unfinished code: one level more after an opening bracket. */
function nextIndent(code: string): string {
  const last = code.trimEnd().split('\n').at(-1) ?? '';
  const indent = /^\s*/.exec(last)![0];
  return /[{([]$/.test(last.trimEnd()) ? `${indent}  ` : indent;
}

export interface KernelOptions {
  cwd?: string;
  /** Called once the kernel has shut down and closed its sockets. */
  onExit?: (code: number) => void;
}

/** The Jupyter kernel: protocol handling around an Executor, plus the services plugins use. */
export class Kernel {
  readonly session = randomUUID();
  private readonly scope = new AsyncLocalStorage<RequestScope>();
  private readonly signer: MessageSigner;
  private readonly executor: Executor;
  private readonly comms: CommManager;
  private readonly magics = new Map<string, LineMagicHandler>();
  private readonly cellMagics = new Map<string, CellMagicHandler>();
  private readonly shutdownHooks: (() => Promise<void> | void)[] = [];
  private readonly interruptListeners = new Set<() => void>();
  private readonly history: HistoryEntry[] = [];
  private readonly shellQueue: JupyterMessage[] = [];
  private readonly aborted = new WeakSet<JupyterMessage>();
  private wakeShell: (() => void) | undefined;
  private executionCount = 0;
  private silentCount = 0;
  private lastExecuteHeader: MessageHeader | undefined;
  private pendingStream: { parent: Parent; name: 'stdout' | 'stderr'; text: string } | undefined;
  private pendingInput: ((value: string) => void) | undefined;
  private shuttingDown = false;
  private channels!: KernelChannels;
  private iopub!: SerialSender;
  private shell!: SerialSender;
  private control!: SerialSender;
  private stdin!: SerialSender;
  readonly services: KernelServices;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly options: KernelOptions = {}
  ) {
    this.signer = new MessageSigner(info.key, info.signature_scheme);
    this.executor = new Executor({
      cwd: options.cwd ?? process.cwd(),
      runMagic: (name, args) => this.runMagic(name, args),
      runCellMagic: (name, args, body, where) => this.runCellMagic(name, args, body, where),
      onLateError: error => this.reportLateError(error)
    });
    this.comms = new CommManager(
      (msgType, content, buffers) => this.publish(msgType, content, this.currentParent(), buffers),
      error => logKernel('comm error', error)
    );
    this.services = this.createServices();
    this.installCellGlobals();
  }

  /** Binds the sockets, loads the plugins and starts serving. */
  async start(
    plugins: readonly KernelPlugin[] | (() => Promise<readonly KernelPlugin[]>)
  ): Promise<void> {
    const onSendError = (error: unknown) => logKernel('send failed', error);
    this.channels = await KernelChannels.bind(
      this.info,
      this.executor.interrupts.flag,
      onSendError
    );
    this.iopub = new SerialSender(this.channels.iopub, onSendError);
    this.shell = new SerialSender(this.channels.shell, onSendError);
    this.control = new SerialSender(this.channels.control, onSendError);
    this.stdin = new SerialSender(this.channels.stdin, onSendError);
    const loaded = typeof plugins === 'function' ? await plugins() : plugins;
    loadPlugins(loaded, this.services, (name, error) =>
      logKernel(`plugin ${name} failed to load`, error)
    );
    process.on('SIGINT', () => this.interrupt('signal'));
    process.on('SIGTERM', () => void this.shutdown(false));
    process.on('uncaughtException', error => this.reportLateError(error));
    process.on('unhandledRejection', reason => this.reportLateError(reason));
    this.publish('status', { execution_state: 'starting' }, {});
    void this.receive(this.channels.shell, message => this.enqueueShell(message));
    void this.receive(this.channels.control, message =>
      this.handle(message, this.control, this.controlHandlers)
    );
    void this.receive(this.channels.stdin, message => this.handleStdin(message));
    void this.processShell();
  }

  // ---- receiving ----------------------------------------------------------------------------

  private async receive(
    socket: AsyncIterable<Buffer[]>,
    dispatch: (message: JupyterMessage) => Promise<void> | void
  ): Promise<void> {
    try {
      for await (const frames of socket) {
        let message: JupyterMessage;
        try {
          message = decodeMessage(frames, this.signer);
        } catch (error) {
          // Never log the key or the frames: only why the message was dropped.
          logKernel(
            error instanceof InvalidSignatureError
              ? 'dropped a message with an invalid signature'
              : `dropped a message: ${(error as Error).message}`
          );
          continue;
        }
        await dispatch(message);
      }
    } catch (error) {
      if (!this.shuttingDown) logKernel('receiving failed', error);
    }
  }

  private enqueueShell(message: JupyterMessage): void {
    this.shellQueue.push(message);
    this.wakeShell?.();
  }

  /** Shell requests are handled one at a time, in order of arrival. */
  private async processShell(): Promise<void> {
    while (!this.shuttingDown) {
      const message = this.shellQueue.shift();
      if (message === undefined) {
        await new Promise<void>(resolve => (this.wakeShell = resolve));
        this.wakeShell = undefined;
        continue;
      }
      await this.handle(message, this.shell, this.shellHandlers);
    }
  }

  /** Every request is wrapped in busy/idle status messages with it as parent. */
  private async handle(
    message: JupyterMessage,
    socket: SerialSender,
    handlers: Record<string, Handler>
  ): Promise<void> {
    const type = message.header.msg_type;
    this.publish('status', { execution_state: 'busy' }, message.header);
    try {
      const handler = handlers[type];
      if (handler === undefined) {
        logKernel(`ignored unsupported message type ${JSON.stringify(type)}`);
      } else {
        await this.scope.run({ message }, () => handler.call(this, message, socket));
      }
    } catch (error) {
      logKernel(`handling ${type} failed`, error);
      // A request must not go unanswered: clients would wait for the reply forever.
      if (type.endsWith('_request')) {
        const { ename, evalue, traceback } = this.executor.reportLateError(error);
        await this.reply(socket, message, type.replace(/_request$/, '_reply'), {
          status: 'error',
          ename,
          evalue,
          traceback
        });
      }
    } finally {
      this.flushStream();
      this.publish('status', { execution_state: 'idle' }, message.header);
    }
    if (this.shuttingDown && type === 'shutdown_request') await this.exit();
  }

  private handleStdin(message: JupyterMessage): void {
    if (message.header.msg_type !== 'input_reply' || this.pendingInput === undefined) {
      logKernel(`unexpected ${message.header.msg_type} on stdin`);
      return;
    }
    this.pendingInput(String(message.content.value ?? ''));
    this.pendingInput = undefined;
  }

  // ---- sending -----------------------------------------------------------------------------

  private send(
    socket: SerialSender,
    msgType: string,
    content: unknown,
    parent: Parent,
    identities: Buffer[] = [],
    buffers: readonly Uint8Array[] = [],
    metadata: Content = {}
  ): Promise<void> {
    const header = createHeader(msgType, this.session);
    return socket.send(
      encodeMessage(
        { identities, header, parent_header: parent, metadata, content: content ?? {}, buffers },
        this.signer
      )
    );
  }

  private reply(socket: SerialSender, request: JupyterMessage, msgType: string, content: Content) {
    this.flushStream();
    return this.send(socket, msgType, content, request.header, request.identities);
  }

  /** iopub: the topic frame names the message type, as ipykernel's does. */
  private publish(
    msgType: string,
    content: Content,
    parent: Parent,
    buffers: readonly Uint8Array[] = []
  ): void {
    if (this.iopub === undefined) return;
    if (msgType !== 'stream') this.flushStream();
    void this.send(this.iopub, msgType, content, parent, [Buffer.from(msgType)], buffers);
  }

  /** The parent for output that happens now: the request in scope, else the last execution. */
  private currentParent(): Parent {
    return this.scope.getStore()?.message.header ?? this.lastExecuteHeader ?? {};
  }

  private writeStream(name: 'stdout' | 'stderr', text: string): void {
    const parent = this.currentParent();
    if (!('msg_id' in parent) || this.iopub === undefined) {
      (name === 'stdout' ? process.stdout : process.stderr).write(text);
      return;
    }
    const pending = this.pendingStream;
    if (pending !== undefined && pending.parent === parent && pending.name === name) {
      pending.text += text;
    } else {
      this.flushStream();
      this.pendingStream = { parent, name, text };
      setImmediate(() => this.flushStream());
    }
    if (this.pendingStream!.text.length > STREAM_FLUSH_BYTES) this.flushStream();
  }

  private flushStream(): void {
    const pending = this.pendingStream;
    if (pending === undefined) return;
    this.pendingStream = undefined;
    this.publish('stream', { name: pending.name, text: pending.text }, pending.parent);
  }

  // ---- services for plugins and cells ---------------------------------------------------------

  private createServices(): KernelServices {
    return {
      display: (data, options = {}) => this.display(data, options),
      registerCommTarget: (targetName: string, handler: CommTargetHandler) =>
        this.comms.registerTarget(targetName, handler),
      openComm: (targetName, data, metadata): KernelComm =>
        this.comms.open(targetName, data, metadata),
      registerLineMagic: (name: string, handler: LineMagicHandler) =>
        this.magics.set(checkMagicName(name), handler),
      registerCellMagic: (name: string, handler: CellMagicHandler) =>
        this.cellMagics.set(checkMagicName(name), handler),
      defineGlobal: (name: string, value: unknown) => this.executor.defineGlobal(name, value),
      onShutdown: cleanup => {
        this.shutdownHooks.push(cleanup);
      },
      onInterrupt: listener => {
        // A fresh function per registration, so the same listener can be added twice.
        const entry = () => listener();
        this.interruptListeners.add(entry);
        return () => this.interruptListeners.delete(entry);
      }
    };
  }

  private display(
    data: MimeBundle,
    options: { displayId?: string; metadata?: Record<string, unknown> }
  ): DisplayHandle {
    const displayId = options.displayId ?? randomUUID();
    // Updates keep the parent of the request that created the display, so they reach its cell.
    const parent = this.currentParent();
    this.publish(
      'display_data',
      { data, metadata: options.metadata ?? {}, transient: { display_id: displayId } },
      parent
    );
    return {
      displayId,
      update: (update, metadata = {}) =>
        this.publish(
          'update_display_data',
          { data: update, metadata, transient: { display_id: displayId } },
          parent
        )
    };
  }

  /** What cells see besides their own bindings: console, display, input, kernel. */
  private installCellGlobals(): void {
    const cellConsole = new Console({
      stdout: {
        write: (text: string) => this.writeStream('stdout', text)
      } as NodeJS.WritableStream,
      stderr: {
        write: (text: string) => this.writeStream('stderr', text)
      } as NodeJS.WritableStream,
      ignoreErrors: false
    });
    // Plugins' console output (e.g. a magic's progress) also belongs to the cell that ran them.
    globalThis.console = cellConsole;
    const define = (name: string, value: unknown) => this.executor.defineGlobal(name, value);
    define('console', cellConsole);
    define('kernel', this.services);
    // Like IPython's display(): returns a handle (for update) only when a display id is asked
    // for, either a chosen one or `true` for a fresh one.
    define(
      'display',
      (
        value: unknown,
        options: {
          displayId?: string | true;
          raw?: boolean;
          metadata?: Record<string, unknown>;
        } = {}
      ) => {
        const bundle = (item: unknown) => (options.raw ? (item as MimeBundle) : toMimeBundle(item));
        const { displayId, metadata } = options;
        const handle = this.display(bundle(value), {
          ...(typeof displayId === 'string' ? { displayId } : {}),
          ...(metadata ? { metadata } : {})
        });
        if (displayId === undefined) return undefined;
        return {
          displayId: handle.displayId,
          update: (item: unknown, updateMetadata?: Record<string, unknown>) =>
            handle.update(bundle(item), updateMetadata)
        };
      }
    );
    define('input', (prompt = '', options: { password?: boolean } = {}) =>
      this.input(String(prompt), options.password === true)
    );
  }

  /** Asks the frontend for a line of text (stdin channel), if the request allows it. */
  private input(prompt: string, password: boolean): Promise<string> {
    const request = this.scope.getStore()?.message;
    if (request?.header.msg_type !== 'execute_request' || request.content.allow_stdin !== true) {
      return Promise.reject(
        new Error('input(): this frontend does not accept input requests (allow_stdin is false)')
      );
    }
    if (this.pendingInput !== undefined) {
      return Promise.reject(new Error('input(): another input request is still waiting'));
    }
    this.flushStream();
    return new Promise(resolve => {
      this.pendingInput = resolve;
      void this.send(
        this.stdin,
        'input_request',
        { prompt, password },
        request.header,
        request.identities
      );
    });
  }

  private async runMagic(name: string, args: string): Promise<unknown> {
    const handler = this.magics.get(name);
    if (handler === undefined) throw unknownMagic(`%${name}`, this.magics, '%');
    return handler(args, this.services);
  }

  private async runCellMagic(
    name: string,
    args: string,
    body: string,
    where: CellMagicBody
  ): Promise<unknown> {
    const handler = this.cellMagics.get(name);
    if (handler === undefined) throw unknownMagic(`%%${name}`, this.cellMagics, '%%');
    return handler(args, body, this.services, where);
  }

  /** SIGINT or interrupt_request: cancel what the running cell awaits, input included. */
  private interrupt(source: 'signal' | 'request'): void {
    // Listeners first: what they display still belongs to the cell being interrupted.
    for (const listener of [...this.interruptListeners]) {
      try {
        listener();
      } catch (error) {
        logKernel('an interrupt listener failed', error);
      }
    }
    this.pendingInput = undefined;
    // Nothing awaiting means nothing to do: a synchronous loop was stopped by vm's breakOnSigint
    // (SIGINT) or by its own check of the interrupt flag (interrupt_request).
    this.executor.interrupt(source);
  }

  private reportLateError(error: unknown): void {
    const parent = this.currentParent();
    if (!('msg_id' in parent)) {
      logKernel('uncaught error outside any cell', error);
      return;
    }
    const report = this.executor.reportLateError(error);
    this.writeStream('stderr', `Uncaught error in a callback:\n${report.traceback.join('\n')}\n`);
  }

  // ---- request handlers -----------------------------------------------------------------------

  private readonly commonHandlers: Record<string, Handler> = {
    kernel_info_request: async (message, socket) => {
      await this.reply(socket, message, 'kernel_info_reply', {
        status: 'ok',
        protocol_version: PROTOCOL_VERSION,
        implementation: 'pilot-streaming',
        implementation_version: libraryVersion,
        language_info: {
          name: 'typescript',
          version: `esbuild ${esbuildVersion}`,
          mimetype: 'text/typescript',
          file_extension: '.ts',
          codemirror_mode: 'typescript',
          pygments_lexer: 'typescript'
        },
        banner: `Pilot-Streaming TypeScript kernel ${libraryVersion} (Node.js ${process.version})`,
        help_links: [],
        debugger: false
      });
    },
    complete_request: async (message, socket) => {
      const code = String(message.content.code ?? '');
      const offset = codePointsToOffset(code, Number(message.content.cursor_pos ?? code.length));
      const result = complete(code, offset, this.executor.namespace);
      await this.reply(socket, message, 'complete_reply', {
        status: 'ok',
        matches: result.matches,
        cursor_start: offsetToCodePoints(code, result.start),
        cursor_end: offsetToCodePoints(code, result.end),
        metadata: {}
      });
    },
    inspect_request: async (message, socket) => {
      const code = String(message.content.code ?? '');
      const offset = codePointsToOffset(code, Number(message.content.cursor_pos ?? code.length));
      const text = describeAt(code, offset, this.executor.namespace);
      await this.reply(socket, message, 'inspect_reply', {
        status: 'ok',
        found: text !== undefined,
        data: text === undefined ? {} : { 'text/plain': text },
        metadata: {}
      });
    },
    is_complete_request: async (message, socket) => {
      let status: string;
      try {
        const { code } = replaceMagics(String(message.content.code ?? ''), {
          line: 'magic',
          cell: 'cellMagic'
        });
        status = await checkCompleteness(code);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        status = 'invalid';
      }
      await this.reply(socket, message, 'is_complete_reply', {
        status,
        ...(status === 'incomplete'
          ? { indent: nextIndent(String(message.content.code ?? '')) }
          : {})
      });
    },
    history_request: async (message, socket) => {
      await this.reply(socket, message, 'history_reply', {
        status: 'ok',
        history: queryHistory(this.history, message.content).map(entry =>
          message.content.output === true ? [entry[0], entry[1], [entry[2], null]] : entry
        )
      });
    },
    comm_info_request: async (message, socket) => {
      const target = message.content.target_name;
      await this.reply(socket, message, 'comm_info_reply', {
        status: 'ok',
        comms: this.comms.info(typeof target === 'string' ? target : undefined)
      });
    },
    shutdown_request: async (message, socket) => {
      const restart = message.content.restart === true;
      await this.runShutdownHooks();
      await this.reply(socket, message, 'shutdown_reply', { status: 'ok', restart });
      this.publish('shutdown_reply', { status: 'ok', restart }, message.header);
      this.shuttingDown = true;
    },
    interrupt_request: async (message, socket) => {
      this.interrupt('request');
      await this.reply(socket, message, 'interrupt_reply', { status: 'ok' });
    }
  };

  private readonly controlHandlers: Record<string, Handler> = { ...this.commonHandlers };

  private readonly shellHandlers: Record<string, Handler> = {
    ...this.commonHandlers,
    execute_request: (message, socket) => this.execute(message, socket),
    comm_open: async message => this.comms.handleOpen(message.content),
    comm_msg: async message => this.comms.handleMessage(message.content, message.buffers),
    comm_close: async message => this.comms.handleClose(message.content)
  };

  private async execute(message: JupyterMessage, socket: SerialSender): Promise<void> {
    const content = message.content;
    const code = String(content.code ?? '');
    const silent = content.silent === true;
    const storeHistory = !silent && content.store_history !== false;
    if (this.aborted.has(message)) {
      await this.reply(socket, message, 'execute_reply', {
        status: 'aborted',
        execution_count: this.executionCount
      });
      return;
    }
    if (storeHistory) this.executionCount++;
    const count = this.executionCount;
    if (!silent) {
      this.lastExecuteHeader = message.header;
      this.publish('execute_input', { code, execution_count: count }, message.header);
    }
    if (storeHistory) this.history.push([CURRENT_SESSION, count, code]);
    const label = storeHistory ? `cell-${count}` : `silent-${++this.silentCount}`;
    try {
      const result = await this.executor.execute(code, label);
      if (!silent && result !== undefined && result.value !== undefined) {
        this.publish(
          'execute_result',
          { execution_count: count, data: toMimeBundle(result.value), metadata: {} },
          message.header
        );
      }
      await this.reply(socket, message, 'execute_reply', {
        status: 'ok',
        execution_count: count,
        payload: [],
        user_expressions: this.evaluateUserExpressions(content.user_expressions)
      });
    } catch (error) {
      // Failing to show the result (e.g. a broken TO_MIME_BUNDLE) is the cell's error too.
      const { ename, evalue, traceback } =
        error instanceof CellError ? error.report : this.executor.reportLateError(error);
      this.publish('error', { ename, evalue, traceback }, message.header);
      if (content.stop_on_error !== false) await this.abortQueuedExecutions();
      await this.reply(socket, message, 'execute_reply', {
        status: 'error',
        execution_count: count,
        ename,
        evalue,
        traceback
      });
    }
  }

  /** After a failed cell, executions already queued behind it are answered "aborted". */
  private async abortQueuedExecutions(): Promise<void> {
    // Let requests that already arrived reach the queue first.
    await new Promise(resolve => setImmediate(resolve));
    for (const queued of this.shellQueue) {
      if (queued.header.msg_type === 'execute_request') this.aborted.add(queued);
    }
  }

  private evaluateUserExpressions(expressions: unknown): Content {
    const results: Content = {};
    if (expressions === null || typeof expressions !== 'object') return results;
    for (const [name, expression] of Object.entries(expressions)) {
      try {
        const value: unknown = vm.runInContext(String(expression), this.executor.context);
        results[name] = { status: 'ok', data: toMimeBundle(value), metadata: {} };
      } catch (error) {
        const { ename, evalue, traceback } = this.executor.reportLateError(error);
        results[name] = { status: 'error', ename, evalue, traceback };
      }
    }
    return results;
  }

  // ---- shutdown -------------------------------------------------------------------------------

  private async runShutdownHooks(): Promise<void> {
    const hooks = this.shutdownHooks.splice(0);
    const all = Promise.allSettled(hooks.map(async hook => hook())).then(results => {
      for (const result of results) {
        if (result.status === 'rejected') logKernel('shutdown hook failed', result.reason);
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>(resolve => {
      timer = setTimeout(() => {
        logKernel(`shutdown hooks still running after ${SHUTDOWN_HOOK_TIMEOUT_MS} ms; going on`);
        resolve();
      }, SHUTDOWN_HOOK_TIMEOUT_MS);
    });
    await Promise.race([all, timeout]);
    clearTimeout(timer);
  }

  /** Shutdown from a signal (SIGTERM): cleanup, then exit. */
  async shutdown(restart: boolean): Promise<void> {
    if (this.shuttingDown) return;
    await this.runShutdownHooks();
    this.publish('shutdown_reply', { status: 'ok', restart }, {});
    this.shuttingDown = true;
    await this.exit();
  }

  private async exit(): Promise<void> {
    this.shuttingDown = true;
    await this.iopub.drain();
    await this.shell.drain();
    await this.control.drain();
    await this.channels.close();
    this.options.onExit?.(0);
  }
}
