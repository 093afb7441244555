import { SingleBar } from 'cli-progress';
import type { Progress } from '../frameworks/plugin.js';

/** Shows progress: a bar on a terminal, one line per new stage otherwise (logs, CI). */
export class ProgressDisplay {
  private bar: SingleBar | undefined;
  private lastStage = '';
  private lastPrinted = 0;

  constructor() {
    if (process.stderr.isTTY) {
      this.bar = new SingleBar({
        format: '{bar} {percentage}% | {stage}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false
      });
      this.bar.start(100, 0, { stage: 'Starting' });
    }
  }

  update(progress: Progress): void {
    if (this.bar !== undefined) {
      const value =
        progress.fraction !== undefined ? Math.round(progress.fraction * 100) : undefined;
      if (value !== undefined) this.bar.update(value, { stage: progress.stage });
      else this.bar.update({ stage: progress.stage });
    } else if (progress.stage !== this.lastStage) {
      // In a log, a stage's running details (e.g. files fetched) at most every 2 s.
      const head = progress.stage.split(':')[0];
      if (head !== this.lastStage.split(':')[0] || Date.now() - this.lastPrinted >= 2000) {
        process.stderr.write(`${progress.stage}\n`);
        this.lastPrinted = Date.now();
      }
    }
    this.lastStage = progress.stage;
  }

  /** A line of its own on stderr (e.g. the new pilot's id), above the bar on a terminal. */
  note(text: string): void {
    if (this.bar !== undefined) {
      process.stderr.write(`\r\x1b[2K${text}\n`);
      this.bar.render();
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
