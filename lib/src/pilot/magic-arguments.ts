import { parseArgs } from 'node:util';
import { numberOrText, ValidationError, type PilotDescriptionInput } from '../protocol/index.js';

export const PILOT_MAGIC_USAGE = `Usage:
  %pilot create <type> --resource <url> [--name <name>] [--config key=value ...] [--walltime <minutes>]
                [--nodes <n>] [--cores <per node>] [--parent <id>] [--queue <partition>] [--project <account>] [--reservation <name>] [--wait] [--timeout <seconds>]
  %pilot list
  %pilot show <id>
  %pilot cancel <id>`;

export type PilotMagicCommand =
  | { kind: 'create'; input: PilotDescriptionInput; wait: boolean; timeoutMs?: number }
  | { kind: 'list' }
  | { kind: 'show'; id: string }
  | { kind: 'cancel'; id: string }
  | { kind: 'help' };

/** A wrong %pilot line: the message says what was wrong and shows the usage. */
export class PilotMagicUsageError extends Error {
  constructor(problem: string) {
    super(`%pilot: ${problem}\n${PILOT_MAGIC_USAGE}`);
    this.name = 'PilotMagicUsageError';
  }
}

/**
 * Splits a magic's argument text like a shell would for simple cases: whitespace separates,
 * single quotes keep everything, double quotes and backslashes escape.
 */
export function splitArguments(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (
      char === '\\' &&
      i + 1 < text.length &&
      (quote === '"' ? /["\\$`]/ : /./).test(text[i + 1]!)
    ) {
      word += text[++i];
      inWord = true;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new PilotMagicUsageError(`unclosed ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}

function oneId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) {
    throw new PilotMagicUsageError(
      `${command} takes exactly one pilot id, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`
    );
  }
  return positionals[0]!;
}

/** Parses the text after `%pilot`. Throws PilotMagicUsageError or ValidationError. */
export function parsePilotMagic(text: string): PilotMagicCommand {
  const [command, ...rest] = splitArguments(text);
  if (command === undefined || command === 'help' || command === '--help') return { kind: 'help' };
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(rest);
  } catch (error) {
    throw new PilotMagicUsageError(`${command}: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  const options = Object.keys(values);
  if (command !== 'create' && options.length > 0) {
    throw new PilotMagicUsageError(`${command} takes no options, got --${options.join(', --')}`);
  }
  switch (command) {
    case 'list':
      if (positionals.length > 0)
        throw new PilotMagicUsageError(`list takes no arguments, got ${positionals.join(' ')}`);
      return { kind: 'list' };
    case 'show':
      return { kind: 'show', id: oneId('show', positionals) };
    case 'cancel':
      return { kind: 'cancel', id: oneId('cancel', positionals) };
    case 'create':
      return createCommand(values, positionals);
    default:
      throw new PilotMagicUsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

function parseCommandLine(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      resource: { type: 'string' },
      name: { type: 'string' },
      config: { type: 'string', multiple: true },
      walltime: { type: 'string' },
      nodes: { type: 'string' },
      cores: { type: 'string' },
      parent: { type: 'string' },
      queue: { type: 'string' },
      project: { type: 'string' },
      reservation: { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' }
    }
  });
}

function createCommand(
  values: ReturnType<typeof parseCommandLine>['values'],
  positionals: string[]
): PilotMagicCommand {
  if (positionals.length !== 1) {
    throw new PilotMagicUsageError(
      `create takes exactly one framework type (e.g. kafka), got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`
    );
  }
  const configuration: Record<string, string> = {};
  for (const pair of values.config ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) {
      throw new ValidationError('%pilot create options', [
        { key: '--config', value: pair, expected: 'key=value, e.g. --config num.partitions=3' }
      ]);
    }
    configuration[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  const input: Record<string, unknown> = { type: positionals[0], configuration };
  if (values.resource !== undefined) input.resource = values.resource;
  if (values.name !== undefined) input.name = values.name;
  if (values.walltime !== undefined) input.walltimeMinutes = numberOrText(values.walltime);
  if (values.nodes !== undefined) input.numberOfNodes = numberOrText(values.nodes);
  if (values.cores !== undefined) input.coresPerNode = numberOrText(values.cores);
  // Passed on as given: the description says where they apply (batch schedulers only).
  for (const key of ['parent', 'queue', 'project', 'reservation'] as const) {
    if (values[key] !== undefined) input[key] = values[key];
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new ValidationError('%pilot create options', [
        { key: '--timeout', value: values.timeout, expected: 'a positive number of seconds' }
      ]);
    }
    timeoutMs = seconds * 1000;
  }
  return {
    kind: 'create',
    input: input as PilotDescriptionInput,
    wait: values.wait === true,
    ...(timeoutMs !== undefined ? { timeoutMs } : {})
  };
}
