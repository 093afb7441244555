import { z } from 'zod';
import type { PilotState } from './states.js';

/** Unit ids name their pilot, so any process can find the pilot (and its agents) from the id. */
export const UNIT_ID_PATTERN = /^(pilot-[a-z0-9]{12})\.unit-[a-z0-9]{10}$/;

export function pilotIdOfUnit(unitId: string): string | undefined {
  return UNIT_ID_PATTERN.exec(unitId)?.[1];
}

/** A process to run on a pilot node: no shell, stdout/stderr captured to files. */
export const executableUnitSchema = z
  .object({
    executable: z.string().min(1, 'a program path or name, e.g. "/bin/echo"'),
    arguments: z.array(z.string()).default([]),
    env: z.record(z.string().min(1), z.string()).default({}),
    /**
     * Cores the unit holds while it runs; 0 holds none (a light process that mostly waits, such as
     * a paced Mini-App producer), so it never queues behind others.
     */
    cores: z.number().int().min(0).max(4096).default(1),
    workingDirectory: z.string().min(1).optional(),
    name: z.string().max(64).optional()
  })
  .strict();

export type ExecutableUnitInput = z.input<typeof executableUnitSchema>;
export type ExecutableUnitDescription = z.output<typeof executableUnitSchema>;

/** The error of a Failed unit, as raised on the node (the stack is the remote one). */
export interface UnitError {
  name: string;
  message: string;
  stack?: string;
}

/** The durable record of a compute unit (written by the agent that runs it). */
export interface UnitRecord {
  format: 1;
  id: string;
  pilotId: string;
  kind: 'function' | 'executable';
  name?: string;
  /** Node (agent) the unit runs on. */
  node: string;
  cores: number;
  state: PilotState;
  reason?: string;
  /** ISO times. */
  submittedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** Executables: exit code (null when killed by a signal) and signal. */
  exitCode?: number | null;
  signal?: string | null;
  error?: UnitError;
}

/** Where a pilot's agent listens; kept in the pilot record (never in the browser's summary). */
export interface AgentEndpoint {
  node: string;
  host: string;
  port: number;
  cores: number;
  pid?: number;
  startedAt: string;
}
