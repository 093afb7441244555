import type { ValidationProblem } from '@pilot-streaming/lib/protocol';
import type { ControlErrorInfo } from '../tokens';

/** A request the control kernel refused or could not answer; carries the kernel's problems. */
export class ControlError extends Error implements ControlErrorInfo {
  readonly problems?: ValidationProblem[];

  constructor(info: ControlErrorInfo) {
    super(info.message);
    this.name = info.name;
    if (info.problems !== undefined) this.problems = info.problems;
  }
}
