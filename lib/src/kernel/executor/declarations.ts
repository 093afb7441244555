import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What introspection knows about a value beyond JavaScript: its declared TypeScript signature and
 * doc comment. esbuild drops both from cells, and TypeScript `private` members are ordinary
 * properties at run time, so they come from the TypeScript text: a cell's own source (recorded
 * by the rewritten cell, see rewrite.ts) or the library's `.d.ts` files (LibraryDeclarations).
 */
export interface Declaration {
  /** The declaration's TypeScript text, e.g. `function f(a: number): string`. */
  signature: string;
  /** The doc comment's text, without the comment markers. */
  doc: string | undefined;
}

// Keyed by the function or class itself: a declaration lives as long as its value.
const cellDeclarations = new WeakMap<object, Declaration>();

/** Records the declaration a cell gave a function or class. */
export function documentValue(value: unknown, declaration: Declaration): void {
  if ((typeof value === 'function' || typeof value === 'object') && value !== null) {
    cellDeclarations.set(value, declaration);
  }
}

export function cellDeclarationOf(value: unknown): Declaration | undefined {
  return typeof value === 'function' ? cellDeclarations.get(value) : undefined;
}

/** The text of a `/** ... *\/` comment, without the markers and the leading `*` of each line. */
export function docCommentText(comment: string): string {
  return comment
    .replace(/^\/\*\*\s?/, '')
    .replace(/\s*\*\/$/, '')
    .split('\n')
    .map(line => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}

/**
 * The doc comment that ends right before `offset`, if any: only white space and modifiers
 * (`export`, `default`, `declare`) may stand between.
 */
export function docCommentBefore(text: string, offset: number): string | undefined {
  const before = text
    .slice(0, offset)
    .replace(/(?:\b(?:export|default|declare)\s+)*$/, '')
    .trimEnd();
  if (!before.endsWith('*/')) return undefined;
  const start = before.lastIndexOf('/**');
  if (start < 0 || before.indexOf('*/', start) !== before.length - 2) return undefined;
  return docCommentText(before.slice(start));
}

export interface DeclaredMember {
  name: string;
  /** `private` in TypeScript, or an ES `#private` field. */
  private: boolean;
  /** The member's declaration text(s) (overloads give several) with doc comments. */
  declarations: Declaration[];
}

export interface DeclaredClass {
  name: string;
  members: Map<string, DeclaredMember>;
}

interface Index {
  classes: Map<string, DeclaredClass[]>;
  functions: Map<string, Declaration[]>;
}

const CLASS_START = /^(?:export )?declare (?:abstract )?class ([\w$]+)/;
const FUNCTION_START = /^(?:export )?declare function ([\w$]+)/;
const MEMBER_NAME =
  /^(?:(private|protected|public) )?(?:static )?(?:abstract )?(?:readonly )?(?:(?:get|set) (?=[\w$#]))?([\w$#]+)/;

/** Bracket depth change over a line of declaration text (strings in .d.ts are rare and short). */
function depthChange(line: string): number {
  let depth = 0;
  for (const char of line) {
    if (char === '(' || char === '{' || char === '[' || char === '<') depth += 1;
    else if (char === ')' || char === '}' || char === ']' || char === '>') depth -= 1;
  }
  // `=>` is no closing bracket.
  return depth + (line.match(/=>/g)?.length ?? 0);
}

/**
 * Reads the classes (members, which are private, signatures and doc comments) and functions of
 * `.d.ts` text as tsc writes it: one member per line at four spaces, multi-line only inside
 * brackets, doc comments right above.
 */
export function parseDeclarations(text: string, index: Index): void {
  const lines = text.split('\n');
  let doc: string | undefined;
  let currentClass: DeclaredClass | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (trimmed.startsWith('/**')) {
      let comment = line;
      while (!comment.trimEnd().endsWith('*/') && i + 1 < lines.length)
        comment += `\n${lines[++i]}`;
      doc = docCommentText(comment.trim());
      continue;
    }
    const classMatch = currentClass === undefined ? CLASS_START.exec(line) : null;
    if (classMatch !== null) {
      currentClass = { name: classMatch[1]!, members: new Map() };
      const same = index.classes.get(currentClass.name) ?? [];
      same.push(currentClass);
      index.classes.set(currentClass.name, same);
      doc = undefined;
      // `declare class A {}` on one line has no body to read.
      if (line.trimEnd().endsWith('}')) currentClass = undefined;
      continue;
    }
    // A declaration runs until its brackets close.
    let declaration = line;
    let depth = depthChange(line);
    while (depth > 0 && i + 1 < lines.length) {
      const next = lines[++i]!;
      declaration += `\n${next}`;
      depth += depthChange(next);
    }
    // Continuation lines lose the first line's indentation (a class member's four spaces).
    const indent = /^ */.exec(line)![0].length;
    const text = declaration
      .split('\n')
      .map(part => part.slice(Math.min(indent, /^ */.exec(part)![0].length)))
      .join('\n');
    const signature = { signature: text.trim(), doc };
    doc = undefined;
    if (currentClass !== undefined) {
      if (line === '}') {
        currentClass = undefined;
        continue;
      }
      const match = MEMBER_NAME.exec(trimmed);
      if (match === null || !line.startsWith('    ') || line.startsWith('     ')) continue;
      const [, access, name] = match;
      const member = currentClass.members.get(name!) ?? {
        name: name!,
        private: access === 'private' || access === 'protected' || name!.startsWith('#'),
        declarations: []
      };
      member.declarations.push(signature);
      currentClass.members.set(name!, member);
      continue;
    }
    const functionMatch = FUNCTION_START.exec(line);
    if (functionMatch !== null) {
      const name = functionMatch[1]!;
      const overloads = index.functions.get(name) ?? [];
      overloads.push({
        signature: signature.signature.replace(/^(?:export )?declare /, ''),
        doc: signature.doc
      });
      index.functions.set(name, overloads);
    }
  }
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile() && entry.name.endsWith('.d.ts'))
    .map(entry => join(entry.parentPath, entry.name));
}

/**
 * The declarations of this library (its built `.d.ts` files under `root`), read once on first
 * use. A value is matched to a class by its constructor's name; where several classes share a
 * name, the one declaring most of the value's methods wins.
 */
export class LibraryDeclarations {
  private index: Index | undefined;

  constructor(private readonly root: string) {}

  private load(): Index {
    if (this.index !== undefined) return this.index;
    const index: Index = { classes: new Map(), functions: new Map() };
    let files: string[] = [];
    try {
      files = declarationFiles(this.root);
    } catch (error) {
      // Running from sources (no .d.ts beside them): nothing declared, introspection still works.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const file of files) parseDeclarations(readFileSync(file, 'utf8'), index);
    this.index = index;
    return index;
  }

  /** The declared class of a prototype (an object whose own `constructor` names its class). */
  classOfPrototype(prototype: object): DeclaredClass | undefined {
    const constructor = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value as
      { name?: unknown } | undefined;
    if (typeof constructor?.name !== 'string') return undefined;
    const candidates = this.load().classes.get(constructor.name);
    if (candidates === undefined) return undefined;
    const methods = Object.getOwnPropertyNames(prototype).filter(name => name !== 'constructor');
    let best: DeclaredClass | undefined;
    let bestScore = -1;
    for (const candidate of candidates) {
      const score = methods.filter(name => candidate.members.has(name)).length;
      if (score > bestScore) [best, bestScore] = [candidate, score];
    }
    return best;
  }

  /** The declared classes along a value's prototype chain, nearest first. */
  classesOf(value: unknown): DeclaredClass[] {
    const classes: DeclaredClass[] = [];
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return [];
    for (
      let prototype = Object.getPrototypeOf(value) as object | null;
      prototype !== null && prototype !== Object.prototype && prototype !== Function.prototype;
      prototype = Object.getPrototypeOf(prototype) as object | null
    ) {
      const declared = this.classOfPrototype(prototype);
      if (declared !== undefined) classes.push(declared);
    }
    return classes;
  }

  /** Names a value's declared classes make private (TypeScript `private`/`protected`). */
  privateNames(value: unknown): Set<string> {
    const names = new Set<string>();
    for (const declared of this.classesOf(value)) {
      for (const member of declared.members.values()) if (member.private) names.add(member.name);
    }
    return names;
  }

  /** The declarations of member `name` of `owner`, from its nearest declared class. */
  memberDeclarations(owner: unknown, name: string): Declaration[] | undefined {
    for (const declared of this.classesOf(owner)) {
      const member = declared.members.get(name);
      if (member !== undefined && !member.private) return member.declarations;
    }
    return undefined;
  }

  /** The declarations of a library function called `name`. */
  functionDeclarations(name: string): Declaration[] | undefined {
    return this.load().functions.get(name);
  }
}

/** This library's own declarations: the `.d.ts` files tsc writes beside the built modules. */
export const libraryDeclarations = new LibraryDeclarations(
  fileURLToPath(new URL('../../', import.meta.url))
);
