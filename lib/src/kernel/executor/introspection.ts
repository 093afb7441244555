import { parseExpressionAt, type Node } from 'acorn';
import { inspect } from 'node:util';
import {
  cellDeclarationOf,
  libraryDeclarations,
  type Declaration,
  type LibraryDeclarations
} from './declarations.js';
import { KERNEL_HELPER } from './rewrite.js';

type AnyNode = Node & Record<string, unknown>;

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

const WORD_CHAR = /[\w$]/;
const OPEN = { ')': '(', ']': '[', '}': '{' } as const;

function skipSpaceBack(code: string, index: number): number {
  while (index > 0 && /\s/.test(code[index - 1]!)) index--;
  return index;
}

/** Where the quoted literal ending at `close` (its closing quote) opens. */
function openingQuote(code: string, close: number): number | undefined {
  const quote = code[close]!;
  for (let i = close - 1; i >= 0; i--) {
    if (code[i] !== quote) continue;
    let backslashes = 0;
    while (code[i - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return undefined;
}

/** Where the bracket closed at `close` opens (quoted text inside is skipped). */
function matchingOpen(code: string, close: number): number | undefined {
  const stack: string[] = [];
  for (let i = close; i >= 0; i--) {
    const char = code[i]!;
    if (char === ')' || char === ']' || char === '}') {
      stack.push(OPEN[char]);
    } else if (char === '(' || char === '[' || char === '{') {
      if (stack.pop() !== char) return undefined;
      if (stack.length === 0) return i;
    } else if (char === '"' || char === "'" || char === '`') {
      const open = openingQuote(code, i);
      if (open === undefined) return undefined;
      i = open;
    }
  }
  return undefined;
}

/**
 * Where the operand ending at `end` starts: `a.b`, `a?.b[0]`, `f(x).y`, `[1, 2]`, `'text'`,
 * `new Map()`. Found by walking back over names, brackets and quotes; the text is then parsed.
 */
function operandStart(code: string, end: number): number | undefined {
  let i = skipSpaceBack(code, end);
  for (;;) {
    const char = code[i - 1];
    if (char === undefined) return undefined;
    if (char === ')' || char === ']' || char === '}') {
      const open = matchingOpen(code, i - 1);
      if (open === undefined) return undefined;
      i = open;
    } else if (char === '"' || char === "'" || char === '`') {
      const open = openingQuote(code, i - 1);
      if (open === undefined) return undefined;
      i = open;
    } else if (WORD_CHAR.test(char)) {
      while (i > 0 && WORD_CHAR.test(code[i - 1]!)) i--;
    } else {
      return undefined;
    }
    const before = skipSpaceBack(code, i);
    if (code[before - 1] === '.' && code[before - 2] !== '.') {
      // A member of what comes before: `x.`, `x?.`.
      i = before - (code[before - 2] === '?' ? 2 : 1);
      continue;
    }
    const previousWord = /[\w$]+$/.exec(code.slice(0, before))?.[0];
    const joinsPrevious =
      (code[i] === '(' || code[i] === '[') &&
      (code[before - 1] === ')' ||
        code[before - 1] === ']' ||
        (previousWord !== undefined && !KEYWORDS.includes(previousWord)));
    if (joinsPrevious) {
      // A call or an index: `f(x)`, `a[0]`.
      i = before;
      continue;
    }
    if (previousWord === 'new') return before - 3;
    return i;
  }
}

interface Evaluated {
  value: unknown;
}

/**
 * The value of an expression, computed without running code: literals, names, property reads
 * and `new X()` (as an object of X's prototype, the constructor is not called). Calls, `await`
 * and everything else give undefined.
 */
function evaluate(node: AnyNode, globals: Record<string, unknown>): Evaluated | undefined {
  switch (node.type) {
    case 'Literal':
      return { value: node.regex !== undefined ? new RegExp('') : node.value };
    case 'TemplateLiteral':
      return (node.expressions as AnyNode[]).length === 0
        ? { value: ((node.quasis as AnyNode[])[0]!.value as { cooked: string }).cooked }
        : { value: '' };
    case 'ArrayExpression':
      return { value: [] };
    case 'ObjectExpression': {
      const object: Record<string, unknown> = {};
      for (const property of node.properties as AnyNode[]) {
        const key = property.key as AnyNode | undefined;
        if (property.type !== 'Property' || property.computed || key === undefined) continue;
        const name = key.type === 'Identifier' ? (key.name as string) : String(key.value);
        object[name] = evaluate(property.value as AnyNode, globals)?.value;
      }
      return { value: object };
    }
    case 'Identifier': {
      const name = node.name as string;
      return name in globals ? { value: globals[name] } : undefined;
    }
    case 'MemberExpression': {
      const object = evaluate(node.object as AnyNode, globals);
      if (object === undefined || object.value === null || object.value === undefined) {
        return undefined;
      }
      const property = node.property as AnyNode;
      const key = node.computed
        ? evaluate(property, globals)?.value
        : (property.name as string | undefined);
      if (typeof key !== 'string' && typeof key !== 'number') return undefined;
      return { value: (object.value as Record<string | number, unknown>)[key] };
    }
    case 'ChainExpression':
    case 'ParenthesizedExpression':
      return evaluate(node.expression as AnyNode, globals);
    case 'NewExpression': {
      const callee = evaluate(node.callee as AnyNode, globals)?.value as
        { prototype?: unknown } | undefined;
      const prototype = typeof callee === 'function' ? callee.prototype : undefined;
      return prototype !== null && typeof prototype === 'object'
        ? { value: Object.create(prototype) as unknown }
        : undefined;
    }
    default:
      return undefined;
  }
}

/** The value of the operand ending at `end` (just before a `.`), if it can be had safely. */
function operandValue(
  code: string,
  end: number,
  globals: Record<string, unknown>
): Evaluated | undefined {
  const start = operandStart(code, end);
  if (start === undefined) return undefined;
  let node: AnyNode;
  try {
    node = parseExpressionAt(code.slice(0, end), start, {
      ecmaVersion: 'latest',
      preserveParens: true
    }) as AnyNode;
  } catch {
    return undefined;
  }
  if (skipSpaceBack(code, end) !== node.end) return undefined;
  return evaluate(node, globals);
}

/** The name being typed at `offset` and, after a `.`, the value it is a member of. */
function target(
  code: string,
  offset: number,
  globals: Record<string, unknown>
): { partial: string; owner: Evaluated | undefined } {
  const partial = /[A-Za-z_$][\w$]*$/.exec(code.slice(0, offset))?.[0] ?? '';
  const beforePartial = skipSpaceBack(code, offset - partial.length);
  if (code[beforePartial - 1] !== '.' || code[beforePartial - 2] === '.') {
    return { partial, owner: { value: globals } };
  }
  const dot = beforePartial - (code[beforePartial - 2] === '?' ? 2 : 1);
  return { partial, owner: operandValue(code, dot, globals) };
}

/** `Object.prototype` of any realm (cells have their own): its members are noise. */
function isObjectPrototype(object: object): boolean {
  return Object.getPrototypeOf(object) === null && Object.hasOwn(object, 'isPrototypeOf');
}

/**
 * Names to offer for a value: its own and inherited properties, without what its class keeps to
 * itself (TypeScript `private`/`protected` members, as the library's .d.ts files declare them)
 * and, as in IPython, without `_names` unless the user types the `_`.
 */
function propertyNames(
  value: unknown,
  partial: string,
  library: LibraryDeclarations | undefined
): string[] {
  const names = new Set<string>();
  let object: unknown =
    value !== null && typeof value !== 'object' && typeof value !== 'function'
      ? Object(value)
      : value;
  while (object !== null && object !== undefined && !isObjectPrototype(object)) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name);
    object = Object.getPrototypeOf(object);
  }
  const hidden = library?.privateNames(value) ?? new Set<string>();
  return [...names].filter(
    name =>
      /^[A-Za-z_$][\w$]*$/.test(name) &&
      name !== 'constructor' &&
      !name.startsWith(KERNEL_HELPER) &&
      !hidden.has(name) &&
      (!name.startsWith('_') || partial.startsWith('_'))
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

/**
 * Completes globals (and keywords) or the members of the value before a `.` (a name, a
 * property path, a literal; never a call: completion runs no code but property getters).
 */
export function complete(
  code: string,
  offset: number,
  globals: Record<string, unknown>,
  library: LibraryDeclarations = libraryDeclarations
): Completion {
  const { partial, owner } = target(code, offset, globals);
  const candidates =
    owner === undefined
      ? []
      : owner.value === globals
        ? [...new Set([...propertyNames(globals, partial, library), ...KEYWORDS])]
        : propertyNames(owner.value, partial, library);
  const matches = candidates.filter(name => name.startsWith(partial)).sort();
  return { matches, start: offset - partial.length, end: offset };
}

/** A function's parameter list as written, read from its source (`function f(a, b = 1)`). */
function sourceSignature(fn: (...args: never[]) => unknown): string {
  const source = Function.prototype.toString.call(fn);
  const firstLine = source.split('\n')[0]!.slice(0, 200);
  // Methods (`m(a) {}`) are no expressions on their own; inside an object literal they are.
  for (const [prefix, suffix] of [
    ['(', ')'],
    ['({', '})']
  ] as const) {
    try {
      const node = parseExpressionAt(`${prefix}${source}${suffix}`, 0, {
        ecmaVersion: 'latest'
      }) as AnyNode;
      // A method's signature starts at its name (its property), its function at the `(`.
      const method = node.type === 'ObjectExpression' ? (node.properties as AnyNode[])[0] : node;
      const fnNode = method?.type === 'Property' ? (method.value as AnyNode) : method;
      const body = fnNode?.body as AnyNode | undefined;
      if (body === undefined) continue;
      const offset = prefix.length;
      // Class bodies and function bodies: what precedes them is the signature.
      return source.slice(Math.max(0, method!.start - offset), body.start - offset).trim();
    } catch {
      // Not this form; try the next.
    }
  }
  return firstLine;
}

function formatDeclarations(declarations: Declaration[]): string {
  const signatures = declarations.map(declaration => declaration.signature).join('\n');
  const docs = [...new Set(declarations.map(declaration => declaration.doc))].filter(
    doc => doc !== undefined && doc !== ''
  );
  return docs.length > 0 ? `${signatures}\n\n${docs.join('\n\n')}` : signatures;
}

/** Signature and doc of a function: declared in a cell, by the library, or from its source. */
function describeFunction(
  fn: (...args: never[]) => unknown,
  name: string,
  owner: unknown,
  globals: Record<string, unknown>,
  library: LibraryDeclarations | undefined
): string {
  const declared =
    cellDeclarationOf(fn) ??
    library?.memberDeclarations(owner, name) ??
    (owner === globals && fn.name === name ? library?.functionDeclarations(name) : undefined);
  if (declared === undefined) return sourceSignature(fn);
  return formatDeclarations(Array.isArray(declared) ? declared : [declared]);
}

/** Text for inspect_request: what the name under the cursor refers to. */
export function describeAt(
  code: string,
  offset: number,
  globals: Record<string, unknown>,
  library: LibraryDeclarations = libraryDeclarations
): string | undefined {
  const after = /^[\w$]*/.exec(code.slice(offset))?.[0] ?? '';
  const end = offset + after.length;
  const { partial: name, owner } = target(code, end, globals);
  if (name === '' || owner === undefined) return undefined;
  const object = owner.value;
  if (object === null || object === undefined || !(name in Object(object))) return undefined;
  const value = (object as Record<string, unknown>)[name];
  const kind = typeof value;
  const summary =
    kind === 'function'
      ? describeFunction(value as () => unknown, name, object, globals, library)
      : inspect(value, { depth: 2, colors: false, maxArrayLength: 20 });
  const expression = code.slice(operandStart(code, end) ?? end - name.length, end);
  return `${expression}: ${kind}\n${summary}`;
}
