import type { ExecutableUnitDescription, UnitRecord } from '../protocol/index.js';

/** A unit as submitted to an agent. */
export type UnitSubmission =
  | {
      kind: 'function';
      id: string;
      source: string;
      args: unknown[];
      cores: number;
      name?: string;
      submittedAt: string;
    }
  | {
      kind: 'executable';
      id: string;
      description: ExecutableUnitDescription;
      submittedAt: string;
    };

export type AgentRequest =
  | { op: 'status' }
  | { op: 'submit'; unit: UnitSubmission }
  | { op: 'get'; ids?: string[] }
  | { op: 'wait'; ids: string[]; timeoutMs: number }
  | { op: 'result'; id: string }
  | { op: 'output'; id: string; stream: 'stdout' | 'stderr' }
  | { op: 'cancel'; id: string };

export interface AgentStatus {
  node: string;
  cores: number;
  /** Units queued or running. */
  load: number;
  running: number;
}

/** The outcome of a unit as `result` returns it. */
export type UnitResult =
  | { kind: 'value'; value: unknown }
  | {
      kind: 'process';
      exitCode: number | null;
      signal: string | null;
      stdout: string;
      stderr: string;
    };

export interface AgentReplies {
  status: AgentStatus;
  submit: { record: UnitRecord; load: number };
  get: UnitRecord[];
  wait: UnitRecord[];
  result: UnitResult;
  output: string;
  cancel: UnitRecord;
}

export interface RequestFrame {
  requestId: number;
  request: AgentRequest;
}

export type ReplyFrame =
  | { requestId: number; ok: true; value: unknown }
  | { requestId: number; ok: false; error: { name: string; message: string; stack?: string } };
