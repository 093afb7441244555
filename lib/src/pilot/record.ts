import { randomInt } from 'node:crypto';
import {
  canTransition,
  isTerminal,
  type PilotDescription,
  type PilotRecord,
  type PilotState
} from '../protocol/index.js';
import { InvalidTransitionError } from './errors.js';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh id matching the protocol's pilotIdSchema ("pilot-" + 12 of [a-z0-9]). */
export function newPilotId(): string {
  let suffix = '';
  for (let i = 0; i < 12; i++) suffix += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return `pilot-${suffix}`;
}

export function newPilotRecord(id: string, description: PilotDescription, now: Date): PilotRecord {
  const at = now.toISOString();
  return {
    format: 1,
    id,
    description,
    state: 'New',
    history: [{ state: 'New', at }],
    revision: 1,
    createdAt: at,
    updatedAt: at
  };
}

/**
 * The record after a transition: validated against the state model, timestamped, with the
 * reason kept on the record and in the history. Start-up progress ends with Running or an end.
 */
export function applyTransition(
  record: PilotRecord,
  to: PilotState,
  options: { reason?: string; now: Date }
): PilotRecord {
  if (!canTransition(record.state, to))
    throw new InvalidTransitionError(record.id, record.state, to);
  const at = options.now.toISOString();
  const next: PilotRecord = {
    ...record,
    state: to,
    history: [
      ...record.history,
      { state: to, at, ...(options.reason !== undefined ? { reason: options.reason } : {}) }
    ]
  };
  if (options.reason !== undefined) next.reason = options.reason;
  else delete next.reason;
  if (to === 'Running' || isTerminal(to)) delete next.progress;
  return next;
}
