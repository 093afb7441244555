/** Raised into a running cell by an interrupt (SIGINT or interrupt_request), like Python's. */
export class KeyboardInterrupt extends Error {
  constructor(detail = 'Interrupted') {
    super(detail);
    this.name = 'KeyboardInterrupt';
  }
}

/**
 * What the loops and functions of rewritten cells check (see INTERRUPT_GUARD in rewrite.ts). The kernel's socket
 * thread raises the flag for an interrupt_request while this thread may be busy in such a loop.
 */
export interface CellInterrupts {
  /** Element 0 is non-zero while an interrupt waits to be delivered. */
  readonly flag: Int32Array;
  /** Delivers it: throws into the loop (or returns if another turn delivered it first). */
  raise(): void;
  /** Takes the waiting interrupt for delivery elsewhere; false if a loop delivered it already. */
  take(): boolean;
}

export function cellInterrupts(): CellInterrupts {
  const flag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  // Exchange, not load-then-store: of two takers seeing the flag, exactly one gets it.
  const take = () => Atomics.exchange(flag, 0, 0) !== 0;
  return {
    flag,
    take,
    raise: () => {
      if (take()) throw new KeyboardInterrupt();
    }
  };
}
