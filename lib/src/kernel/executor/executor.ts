import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import type { CellMagicBody } from '../api.js';
import { replaceMagics } from './magics.js';
import { cellNamespace } from './namespace.js';
import { ModuleLoader, defaultExport, namedExport } from './modules.js';
import { KeyboardInterrupt, type CellInterrupts } from './interrupts.js';
import {
  CellScope,
  KERNEL_HELPER,
  cellHelpers,
  declareInterruptBindings,
  rewriteCell,
  type Binding
} from './rewrite.js';
import { CellSources, cellFileName, reportError, type ErrorReport } from './stack.js';
import { CellSyntaxError, transpileCell, untranspiled } from './transpile.js';

/** A cell failed; `report` holds Jupyter's ename/evalue/traceback. */
export class CellError extends Error {
  constructor(readonly report: ErrorReport) {
    super(`${report.ename}: ${report.evalue}`);
    this.name = 'CellError';
  }
}

export interface ExecutorOptions {
  /** Directory relative imports and `require` resolve from (the notebook's). */
  cwd: string;
  /** Runs a `%name args` line; rejects for unknown magics. */
  runMagic: (name: string, args: string) => Promise<unknown>;
  /** Runs a cell that starts with `%%name args`; rejects for unknown magics. */
  runCellMagic: (
    name: string,
    args: string,
    body: string,
    where: CellMagicBody
  ) => Promise<unknown>;
  /** Receives what an interrupted cell throws after the interrupt let the kernel move on. */
  onLateError: (error: unknown) => void;
}

// Frames of the kernel's own code are noise in a user's traceback.
const KERNEL_DIR = fileURLToPath(new URL('..', import.meta.url));
const HIDDEN_FRAMES = [KERNEL_DIR, new URL('..', import.meta.url).href, 'node:internal', 'node:vm'];

/**
 * Runs TypeScript cells in one persistent `vm` context. Bindings persist because the rewritten
 * cells assign them to the context's globals; each cell runs as an async function so top-level
 * `await` works.
 */
export class Executor {
  readonly context: vm.Context;
  /** The global object cells see. */
  readonly global: Record<string, unknown>;
  readonly modules: ModuleLoader;
  private readonly sources = new CellSources();
  /** The names cells have declared: bindings of the context's script scope. */
  readonly scope = new CellScope();
  /** The names cells see, for completion and inspection (see cellNamespace). */
  readonly namespace: Record<string, unknown>;
  private pendingInterrupt: ((error: Error) => void) | undefined;
  /** A cell is being prepared or run; an interrupt before it awaits anything is kept here. */
  private running = false;
  private interruptRequested = false;
  /**
   * Raised by the kernel's socket thread for an interrupt_request, while this thread may be busy
   * in a cell's loop; the loops check it (see rewrite.ts).
   */
  readonly interrupts: CellInterrupts;

  constructor(private readonly options: ExecutorOptions) {
    this.context = vm.createContext({}, { name: 'cells' });
    this.global = vm.runInContext('globalThis', this.context) as Record<string, unknown>;
    this.shareHostGlobals();
    this.modules = new ModuleLoader(options.cwd);
    const helpers = cellHelpers(this.global);
    this.interrupts = helpers.interrupts;
    this.defineHidden(KERNEL_HELPER, {
      importModule: (specifier: string) => this.modules.import(specifier),
      defaultExport,
      namedExport,
      importMeta: { url: pathToFileURL(`${options.cwd}/`).href },
      magic: options.runMagic,
      cellMagic: options.runCellMagic,
      ...helpers
    });
    declareInterruptBindings(this.context);
    this.namespace = cellNamespace(this.global, this.scope, this.context);
    this.defineGlobal('require', this.modules.require);
    this.defineGlobal('global', this.global);
  }

  /**
   * Node's globals (timers, process, Buffer, fetch, URL...) that a fresh context lacks. The
   * context keeps its own intrinsics (Object, Array, Promise...) so literals and `instanceof`
   * agree inside cells.
   */
  private shareHostGlobals(): void {
    const own = new Set(Object.getOwnPropertyNames(this.global));
    const host = globalThis as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(globalThis)) {
      if (own.has(name) || name === 'global' || name === 'globalThis') continue;
      Object.defineProperty(this.global, name, {
        configurable: true,
        enumerable: false,
        get: () => host[name],
        set: (value: unknown) =>
          Object.defineProperty(this.global, name, {
            value,
            writable: true,
            configurable: true,
            enumerable: true
          })
      });
    }
  }

  defineGlobal(name: string, value: unknown): void {
    Object.defineProperty(this.global, name, {
      value,
      writable: true,
      configurable: true,
      enumerable: true
    });
  }

  private defineHidden(name: string, value: unknown): void {
    Object.defineProperty(this.global, name, { value, writable: false, configurable: false });
  }

  /**
   * Runs one cell. Resolves with `{ value }` if the cell ends with an expression; rejects with a
   * CellError (syntax error, exception, interrupt).
   */
  async execute(source: string, label: string): Promise<{ value: unknown } | undefined> {
    this.running = true;
    this.interruptRequested = false;
    try {
      return await this.run(source, label);
    } finally {
      this.running = false;
    }
  }

  private async run(source: string, label: string): Promise<{ value: unknown } | undefined> {
    let script: vm.Script;
    let declared: Binding[];
    try {
      ({ script, declared } = await this.compile(source, label));
    } catch (error) {
      throw new CellError(this.report(error, label, source));
    }
    // Interrupted while being transpiled: do not start it.
    if (this.interruptRequested)
      throw new CellError(this.report(new KeyboardInterrupt(), label, source));
    let completion: Promise<{ value: unknown } | undefined>;
    try {
      // breakOnSigint covers the synchronous part of the cell (e.g. `while (true) {}`).
      completion = script.runInContext(this.context, { breakOnSigint: true }) as Promise<
        { value: unknown } | undefined
      >;
      this.scope.record(declared);
    } catch (error) {
      // Only a SyntaxError (a name the script scope cannot take) comes before the header's
      // declarations exist; after them, an interrupt of the synchronous part.
      if (!(error instanceof (this.global.SyntaxError as ErrorConstructor))) {
        this.scope.record(declared);
      }
      throw new CellError(this.report(error, label, source));
    }
    // While the cell awaits, an interrupt rejects the wait; the cell's own work may go on.
    const interrupted = new Promise<never>((_resolve, reject) => {
      this.pendingInterrupt = reject;
    });
    try {
      return await Promise.race([completion, interrupted]);
    } catch (error) {
      if (error instanceof KeyboardInterrupt) completion.catch(this.options.onLateError);
      throw new CellError(this.report(error, label, source));
    } finally {
      this.pendingInterrupt = undefined;
    }
  }

  /**
   * Interrupts the running cell: rejects what it awaits, or stops it before it starts. While it
   * runs synchronously, vm's breakOnSigint stops it for a SIGINT, and its loops for an
   * interrupt_request: when one of them took this request's flag, the cell has the interrupt
   * already. Returns false when no cell runs or it was delivered that way.
   */
  interrupt(source: 'signal' | 'request'): boolean {
    if (source === 'request' && !this.interrupts.take()) return false;
    if (this.pendingInterrupt !== undefined) {
      this.pendingInterrupt(new KeyboardInterrupt());
      return true;
    }
    this.interruptRequested = this.running;
    return this.running;
  }

  private async compile(
    source: string,
    label: string
  ): Promise<{ script: vm.Script; declared: Binding[] }> {
    const { code: withMagics, magics } = replaceMagics(source, {
      line: `${KERNEL_HELPER}.magic`,
      cell: `${KERNEL_HELPER}.cellMagic`,
      file: cellFileName(label)
    });
    // A cell magic's cell is one call with the body as data; the magic reports errors in the
    // body at cell positions, so the cell maps to itself.
    const transpiled =
      magics[0]?.kind === 'cell'
        ? untranspiled(withMagics, source, cellFileName(label))
        : await transpileCell(withMagics, cellFileName(label));
    this.sources.add(label, transpiled.map, source, transpiled.code.split('\n').length);
    let rewritten;
    try {
      rewritten = rewriteCell(
        transpiled.code,
        { source: withMagics, map: transpiled.map },
        this.scope
      );
    } catch (error) {
      throw this.mapParseError(error, label, source);
    }
    const script = new vm.Script(rewritten.script, {
      filename: cellFileName(label),
      lineOffset: -1
    });
    return { script, declared: rewritten.declared };
  }

  /** acorn failing on esbuild's output is rare; point at the cell line it came from. */
  private mapParseError(error: unknown, label: string, source: string): unknown {
    const location = (error as { loc?: { line: number; column: number } }).loc;
    if (location === undefined) return error;
    const mapped = this.sources.map(label, location.line, location.column + 1);
    const line = mapped?.line ?? location.line;
    const reason = (error as Error).message.replace(/\s*\(\d+:\d+\)$/, '');
    return new CellSyntaxError(
      reason,
      line,
      mapped?.column ?? location.column + 1,
      source.split('\n')[line - 1] ?? ''
    );
  }

  private report(error: unknown, label: string, source: string): ErrorReport {
    if (error instanceof CellSyntaxError) {
      const caret = `${' '.repeat(Math.max(0, error.column - 1))}^`;
      return {
        ename: 'SyntaxError',
        evalue: error.message,
        traceback: [
          `\u001b[0;31mSyntaxError\u001b[0m: ${error.message}`,
          `  ${cellFileName(label)}:${error.line}:${error.column}`,
          `    ${error.lineText || (source.split('\n')[error.line - 1] ?? '')}`,
          `    ${caret}`
        ]
      };
    }
    if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
      error = new KeyboardInterrupt();
    }
    if (error instanceof KeyboardInterrupt) {
      return {
        ename: error.name,
        evalue: error.message,
        traceback: [`\u001b[0;31mKeyboardInterrupt\u001b[0m: ${error.message}`]
      };
    }
    return reportError(error, this.sources, HIDDEN_FRAMES);
  }

  /** Formats an error thrown later by a cell's callbacks (timers, event handlers). */
  reportLateError(error: unknown): ErrorReport {
    return reportError(error, this.sources, HIDDEN_FRAMES);
  }
}
