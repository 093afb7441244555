import type { z } from 'zod';
import { pilotDescriptionSchema, type PilotDescription } from './description.js';

/** One problem with an input: where, what was given, what is expected. */
export interface ValidationProblem {
  key: string;
  value: unknown;
  expected: string;
}

/** Raised for invalid input; the message names every bad key, its value and what is expected. */
export class ValidationError extends Error {
  readonly problems: readonly ValidationProblem[];

  constructor(subject: string, problems: readonly ValidationProblem[]) {
    super(`Invalid ${subject}: ${problems.map(formatProblem).join('; ')}`);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** Longer values are cut in messages: a pasted file as a name must not fill the screen. */
const SHOWN_VALUE_LENGTH = 60;

/** A value as a message shows it: JSON, a long string cut with its length named. */
export function shownValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string' && value.length > SHOWN_VALUE_LENGTH) {
    // Cut by code points, so no surrogate pair is split.
    const start = Array.from(value).slice(0, SHOWN_VALUE_LENGTH).join('');
    return `${JSON.stringify(`${start}…`)} (${value.length} characters)`;
  }
  const json = JSON.stringify(value) ?? String(value);
  return json.length > SHOWN_VALUE_LENGTH * 2
    ? `${json.slice(0, SHOWN_VALUE_LENGTH)}… (${json.length} characters of JSON)`
    : json;
}

export function formatProblem(problem: ValidationProblem): string {
  return `${problem.key} = ${shownValue(problem.value)}, expected ${problem.expected}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `a value of type ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map(v => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `${issue.origin === 'string' ? 'a length' : 'a value'} of at least ${String(issue.minimum)}`;
    case 'too_big':
      return `${issue.origin === 'string' ? 'a length' : 'a value'} of at most ${String(issue.maximum)}`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

/** Turns zod issues into problems; unknown keys become one problem per key. */
export function problemsFromIssues(
  input: unknown,
  issues: readonly z.core.$ZodIssue[]
): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        problems.push({
          key: path.join('.'),
          value: valueAt(input, path),
          expected: 'no such key (unknown key)'
        });
      }
      continue;
    }
    if (issue.code === 'invalid_type' && issue.expected === 'int') {
      problems.push({
        key: issue.path.join('.') || '(description)',
        value: valueAt(input, issue.path),
        expected: 'an integer'
      });
      continue;
    }
    problems.push({
      key: issue.path.join('.') || '(description)',
      value: valueAt(input, issue.path),
      expected: expectedOf(issue)
    });
  }
  return problems;
}

/**
 * A command-line value as a description takes it: a number when the text is one in decimal or
 * exponent notation ("90", "1.5", "1e9"), else the text itself, whose type the schema then names.
 */
export function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? Number(trimmed) : text;
}

/** Validates a pilot description, filling in defaults, or throws a ValidationError. */
export function parsePilotDescription(input: unknown): PilotDescription {
  const result = pilotDescriptionSchema.safeParse(input);
  if (!result.success) {
    throw new ValidationError('pilot description', problemsFromIssues(input, result.error.issues));
  }
  return result.data;
}

/** Browser-friendly variant for forms: the problems, or an empty list when valid. */
export function checkPilotDescription(input: unknown): ValidationProblem[] {
  const result = pilotDescriptionSchema.safeParse(input);
  return result.success ? [] : problemsFromIssues(input, result.error.issues);
}
