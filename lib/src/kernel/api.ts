/**
 * What the kernel offers to the parts of the library that live inside it (the panel's control
 * target, live widgets, magics). The kernel implements these; other folders only consume them.
 */

/** A MIME bundle, e.g. { 'text/plain': '...', 'application/json': {...} }. */
export type MimeBundle = Record<string, unknown>;

/** A display created in a cell; updates reach that cell even after the execution finished. */
export interface DisplayHandle {
  readonly displayId: string;
  /** Sends update_display_data with the parent header of the request that created the display. */
  update(data: MimeBundle, metadata?: Record<string, unknown>): void;
}

/** One open comm, either side may send or close. */
export interface KernelComm {
  readonly commId: string;
  readonly targetName: string;
  send(data: unknown, buffers?: readonly Uint8Array[]): void;
  close(data?: unknown): void;
  onMessage(listener: (data: unknown, buffers: readonly Uint8Array[]) => void): void;
  onClose(listener: (data: unknown) => void): void;
  readonly closed: boolean;
}

/** Called when the frontend opens a comm with the registered target name. */
export type CommTargetHandler = (comm: KernelComm, openData: unknown) => void;

/** Line magic handler: receives the text after `%name `, may display things, returns a value. */
export type LineMagicHandler = (args: string, kernel: KernelServices) => Promise<unknown>;

/**
 * Where a cell magic's body is: the cell's name in tracebacks (`<cell-3>`) and the cell line its
 * body starts on. A magic that reports errors in the body (a syntax error, frames of code it ran)
 * at these positions gets them shown like those of any cell, with the cell's lines.
 */
export interface CellMagicBody {
  file: string;
  line: number;
}

/**
 * Cell magic handler: a cell starting with `%%name args` is handed over whole; `body` is the rest
 * of the cell. The returned value is the cell's result.
 */
export type CellMagicHandler = (
  args: string,
  body: string,
  kernel: KernelServices,
  where: CellMagicBody
) => Promise<unknown>;

export interface KernelServices {
  /** Displays a bundle in the cell currently executing (or the last one, from timers). */
  display(
    data: MimeBundle,
    options?: { displayId?: string; metadata?: Record<string, unknown> }
  ): DisplayHandle;
  registerCommTarget(targetName: string, handler: CommTargetHandler): void;
  /** Opens a comm from the kernel to a target registered in the frontend. */
  openComm(targetName: string, data?: unknown, metadata?: Record<string, unknown>): KernelComm;
  registerLineMagic(name: string, handler: LineMagicHandler): void;
  registerCellMagic(name: string, handler: CellMagicHandler): void;
  /** Makes a value available as a global in cells. */
  defineGlobal(name: string, value: unknown): void;
  /** Registers cleanup run on shutdown (stop timers, close clients); never blocks > 5 s. */
  onShutdown(cleanup: () => Promise<void> | void): void;
  /**
   * Calls `listener` when the user interrupts the kernel (SIGINT or interrupt_request), before
   * the running cell is stopped; returns a function that removes it. A magic that awaits
   * something long (a pilot's start) uses it to stop its own updates and say what goes on.
   */
  onInterrupt(listener: () => void): () => void;
}

/** A part of the library that plugs itself into the kernel at start-up. */
export type KernelPlugin = (kernel: KernelServices) => void;

/**
 * A value that knows how to show itself: `[TO_MIME_BUNDLE]()` returns a MIME bundle used for a
 * cell's result and for `display(value)`.
 */
export const TO_MIME_BUNDLE: unique symbol = Symbol.for('pilot-streaming.toMimeBundle');
