import { readFile } from 'node:fs/promises';

/** The fields of a Jupyter connection file this kernel needs. */
export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
}

export type Channel = 'shell' | 'iopub' | 'stdin' | 'control' | 'hb';

function requireField<T>(
  raw: Record<string, unknown>,
  key: string,
  check: (value: unknown) => value is T,
  expected: string,
  file: string
): T {
  const value = raw[key];
  if (!check(value)) {
    throw new Error(
      `connection file ${file}: key "${key}" has value ${JSON.stringify(value)}, expected ${expected}`
    );
  }
  return value;
}

const isPort = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
const isString = (value: unknown): value is string => typeof value === 'string';

export function parseConnectionInfo(text: string, file: string): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`connection file ${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error
    });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`connection file ${file} must hold a JSON object`);
  }
  const record = raw as Record<string, unknown>;
  const transport = record.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ipc') {
    throw new Error(
      `connection file ${file}: key "transport" has value ${JSON.stringify(transport)}, expected "tcp" or "ipc"`
    );
  }
  const port = (key: string) => requireField(record, key, isPort, 'a port number 1..65535', file);
  return {
    transport,
    ip: requireField(record, 'ip', isString, 'an IP address or ipc path', file),
    shell_port: port('shell_port'),
    iopub_port: port('iopub_port'),
    stdin_port: port('stdin_port'),
    control_port: port('control_port'),
    hb_port: port('hb_port'),
    key: requireField(record, 'key', isString, 'a string (may be empty)', file),
    signature_scheme:
      record.signature_scheme === undefined
        ? 'hmac-sha256'
        : requireField(record, 'signature_scheme', isString, 'a string like "hmac-sha256"', file)
  };
}

export async function readConnectionFile(file: string): Promise<ConnectionInfo> {
  return parseConnectionInfo(await readFile(file, 'utf8'), file);
}

/** ZeroMQ endpoint for a channel (the ports are chosen by the client that wrote the file). */
export function endpoint(info: ConnectionInfo, channel: Channel): string {
  const port = info[`${channel}_port`];
  if (info.transport === 'ipc') return `ipc://${info.ip}-${port}`;
  return `tcp://${info.ip}:${port}`;
}
