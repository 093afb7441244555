import { inspect } from 'node:util';
import { KERNEL_HELPER } from './rewrite.js';

const KEYWORDS = [
  'abstract',
  'as',
  'async',
  'await',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'declare',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'from',
  'function',
  'if',
  'implements',
  'import',
  'in',
  'instanceof',
  'interface',
  'keyof',
  'let',
  'new',
  'null',
  'of',
  'readonly',
  'return',
  'satisfies',
  'static',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'type',
  'typeof',
  'undefined',
  'var',
  'void',
  'while',
  'with',
  'yield'
];

/** The `a.b.c` chain (possibly ending in a partial name) just before `offset`. */
function chainBefore(code: string, offset: number): { parts: string[] } {
  const match = /((?:[A-Za-z_$][\w$]*\s*\??\.\s*)*)([A-Za-z_$][\w$]*)?$/.exec(
    code.slice(0, offset)
  );
  const text = match?.[0] ?? '';
  const parts = text.split(/\s*\??\.\s*/).map(part => part.trim());
  return { parts };
}

/** Follows `a.b` from the global object by property reads only (never calls code). */
function resolveChain(root: Record<string, unknown>, path: readonly string[]): unknown {
  let value: unknown = root;
  for (const name of path) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

function propertyNames(value: unknown): string[] {
  const names = new Set<string>();
  let object: unknown =
    value !== null && typeof value !== 'object' && typeof value !== 'function'
      ? Object(value)
      : value;
  while (object !== null && object !== undefined && object !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name);
    object = Object.getPrototypeOf(object);
  }
  return [...names].filter(
    name =>
      /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'constructor' && !name.startsWith(KERNEL_HELPER)
  );
}

/** JavaScript string offsets count UTF-16 units; Jupyter cursor positions count code points. */
export function codePointsToOffset(code: string, cursor: number): number {
  return [...code].slice(0, cursor).join('').length;
}

export function offsetToCodePoints(code: string, offset: number): number {
  return [...code.slice(0, offset)].length;
}

export interface Completion {
  matches: string[];
  /** Offsets in UTF-16 units. */
  start: number;
  end: number;
}

/** Completes globals (and keywords) or properties of an `a.b.` chain. */
export function complete(
  code: string,
  offset: number,
  globals: Record<string, unknown>
): Completion {
  const { parts } = chainBefore(code, offset);
  const partial = parts.at(-1) ?? '';
  const path = parts.slice(0, -1);
  const candidates =
    path.length === 0
      ? [...new Set([...propertyNames(globals), ...KEYWORDS])]
      : propertyNames(resolveChain(globals, path));
  const matches = candidates.filter(name => name.startsWith(partial)).sort();
  return { matches, start: offset - partial.length, end: offset };
}

/** Text for inspect_request: what the name under the cursor refers to. */
export function describeAt(
  code: string,
  offset: number,
  globals: Record<string, unknown>
): string | undefined {
  const after = /^[\w$]*/.exec(code.slice(offset))?.[0] ?? '';
  const { parts } = chainBefore(code, offset + after.length);
  if (parts.length === 0 || parts.at(-1) === '') return undefined;
  const owner = resolveChain(globals, parts.slice(0, -1));
  if (owner === null || owner === undefined) return undefined;
  const name = parts.at(-1)!;
  if (!(name in Object(owner))) return undefined;
  const value = (owner as Record<string, unknown>)[name];
  const kind = typeof value;
  const summary =
    kind === 'function'
      ? String(value).split('\n')[0]!.slice(0, 200)
      : inspect(value, { depth: 2, colors: false, maxArrayLength: 20 });
  return `${parts.join('.')}: ${kind}\n${summary}`;
}
