import type { Pilot } from '../pilot/index.js';
import { PilotWaitError } from '../pilot/index.js';
import { isTerminal } from '../protocol/index.js';
import type { ProgressDisplay } from './progress-display.js';

/** After a first Ctrl-C, how long a second one cancels the pilot instead of leaving it running. */
export const SECOND_INTERRUPT_WINDOW_MS = 5_000;

/** Raised into the wait by the first Ctrl-C. */
class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/**
 * Ctrl-C (SIGINT) while `create` launches and waits. The first stops the wait and leaves the
 * pilot running (it is not lost: its id and how to cancel it are printed); a second within
 * SECOND_INTERRUPT_WINDOW_MS cancels it; a third, or a second before the id is known, leaves at
 * once.
 */
export class CreateInterrupts {
  private count = 0;
  private pilot: Pilot | undefined;
  private readonly waiting = new AbortController();
  private onSecond: (() => void) | undefined;
  private canceling = false;

  constructor() {
    process.on('SIGINT', this.onSignal);
  }

  /** Aborted by the first Ctrl-C. */
  get signal(): AbortSignal {
    return this.waiting.signal;
  }

  get interrupted(): boolean {
    return this.count > 0;
  }

  /** The pilot is launched: from now on Ctrl-C can name and cancel it. */
  launched(pilot: Pilot): void {
    this.pilot = pilot;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
  }

  private readonly onSignal = (): void => {
    this.count++;
    const pilot = this.pilot;
    if (this.count === 1) {
      if (pilot === undefined) {
        process.stderr.write(
          `\nInterrupted during the launch: finishing it to report the pilot's id (Ctrl-C again to leave at once)\n`
        );
      }
      this.waiting.abort(new Interrupted());
    } else if (pilot === undefined) {
      process.stderr.write(
        `\nLeaving during the launch: a pilot may be starting; see "pilot-streaming list"\n`
      );
      process.exit(130);
    } else if (!this.canceling && this.onSecond !== undefined) {
      this.onSecond();
    } else if (this.canceling) {
      process.stderr.write(
        `\nLeaving; the cancel of ${pilot.id} may be unfinished: run "pilot-streaming cancel ${pilot.id}"\n`
      );
      process.exit(130);
    }
  };

  /**
   * After the first Ctrl-C: says that `pilot` keeps running and how to cancel it, then waits
   * SECOND_INTERRUPT_WINDOW_MS for a second Ctrl-C, which cancels it (waiting until the cancel is
   * recorded). Resolves with the pilot's state as it is left.
   */
  async leaveOrCancel(pilot: Pilot): Promise<string> {
    process.stderr.write(
      `\nInterrupted: ${keepsRunning(pilot)}\nPress Ctrl-C again within ${SECOND_INTERRUPT_WINDOW_MS / 1000} s to cancel it now.\n`
    );
    const cancel = await new Promise<boolean>(resolve => {
      const timer = setTimeout(() => resolve(false), SECOND_INTERRUPT_WINDOW_MS);
      this.onSecond = () => {
        clearTimeout(timer);
        resolve(true);
      };
      // A second Ctrl-C that came before this window opened counts as well.
      if (this.count > 1) this.onSecond();
    });
    if (!cancel) return pilot.state;
    this.canceling = true;
    process.stderr.write(`Canceling ${pilot.id} ...\n`);
    await pilot.cancel();
    process.stderr.write(`${pilot.id} is ${pilot.state}\n`);
    return pilot.state;
  }
}

/** That the pilot keeps running, for how long at most, and the command that cancels it. */
export function keepsRunning(pilot: Pilot): string {
  const stage = pilot.record.progress !== undefined ? `: ${pilot.record.progress.stage}` : '';
  return (
    `${pilot.id} keeps running (${pilot.state}${stage}) until it is canceled or its walltime of ` +
    `${pilot.description.walltimeMinutes} min ends.\n` +
    `Cancel it with: pilot-streaming cancel ${pilot.id}`
  );
}

/** How following a pilot's start ended when it did not reach Running. */
export type StartOutcome = 'Running' | 'interrupted' | 'timed out';

/**
 * Follows a starting pilot's progress until it is Running. Resolves 'interrupted' when `signal`
 * is aborted and 'timed out' when `timeoutMs` passes, both with the pilot left running; rejects
 * if it ends before Running.
 */
export async function followStart(
  pilot: Pilot,
  display: ProgressDisplay,
  options: { timeoutMs: number; signal: AbortSignal }
): Promise<StartOutcome> {
  const poll = setInterval(() => {
    const progress = pilot.record.progress;
    if (progress !== undefined) display.update(progress);
  }, 200);
  try {
    await pilot.wait('Running', options);
    display.update({ stage: 'Running', fraction: 1 });
    return 'Running';
  } catch (error) {
    if (options.signal.aborted) return 'interrupted';
    if (error instanceof PilotWaitError && !isTerminal(error.state)) {
      display.stop();
      process.stderr.write(`${error.message}\n`);
      return 'timed out';
    }
    throw error;
  } finally {
    clearInterval(poll);
    display.stop();
  }
}
