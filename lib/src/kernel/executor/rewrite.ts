import { parse, type Node } from 'acorn';
import { SourceMap } from 'node:module';
import vm from 'node:vm';
import { docCommentBefore, documentValue, type Declaration } from './declarations.js';
import { cellInterrupts, type CellInterrupts } from './interrupts.js';

/** The global through which rewritten cells reach the kernel (imports, magics). */
export const KERNEL_HELPER = '__pilotStreamingKernel';

/**
 * Every loop in a cell starts each turn, and every function each call, by reading the interrupt flag (`INTERRUPT_FLAG[0]`, set
 * by the kernel's socket thread) and calls `INTERRUPT_RAISE` when it is set. Both are `const`s of
 * the context's script scope (declareInterruptBindings), which V8 folds into optimised code: as
 * parameters of the cell's function the check cost half as much again, through the context's
 * global object (its interceptor) hundreds of times more. A plain read, not `Atomics.load`: the
 * cells' realm has its own `Atomics`, again a global, and V8 does not hoist typed-array loads out
 * of loops (the kernel test interrupting `while (true) {}` after an await would catch it if it did).
 */
const INTERRUPT_FLAG = `${KERNEL_HELPER}_interrupts`;
const INTERRUPT_RAISE = `${KERNEL_HELPER}_interrupted`;
// `typeof` first: a cell's function may be sent as source to run elsewhere (a compute unit, a
// Mini-App processor), where the flag does not exist; in the kernel V8 folds the test away.
const INTERRUPT_CHECK = `typeof ${INTERRUPT_FLAG} !== 'undefined' && ${INTERRUPT_FLAG}[0] !== 0 && ${INTERRUPT_RAISE}()`;
const INTERRUPT_GUARD = `${INTERRUPT_CHECK};`;
const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const LOOPS = new Set([
  'ForStatement',
  'ForInStatement',
  'ForOfStatement',
  'WhileStatement',
  'DoWhileStatement'
]);

export interface RewrittenCell {
  /**
   * A script to run in the kernel's context. Its first line is a header; line N + 1 of the script
   * is line N of the input, so run it with lineOffset -1. Evaluates to a promise of
   * `{ value }` when the cell ends with an expression, otherwise of undefined.
   */
  script: string;
  /** Top-level names the cell binds (script-scope bindings of the context, see CellScope). */
  declared: Binding[];
}

/**
 * How a cell binds a top-level name: `const` (also imports) and `let` (also classes and
 * functions) in the context's script scope; `var` as a property of the global object, as a
 * script's top-level `var` is (code may reach it as `globalThis.name`), unless the script scope
 * holds the name already.
 */
export type BindingKind = 'const' | 'let' | 'var';

export interface Binding {
  name: string;
  kind: BindingKind;
}

/**
 * The names the cells of one context have declared so far. They are `let` bindings of the
 * context's script scope (declared by the header of the first cell that binds them, assigned by
 * every later one), which all cells share and V8 reaches quickly; a property of the global object
 * would go through the context's interceptor on every access (about a microsecond). Constness is
 * the rewrite's to keep: see rewriteCell.
 */
export class CellScope {
  private readonly bindings = new Map<string, boolean>();

  has(name: string): boolean {
    return this.bindings.has(name);
  }

  isConstant(name: string): boolean {
    return this.bindings.get(name) === true;
  }

  names(): string[] {
    return [...this.bindings.keys()];
  }

  /** Once a cell's script has started, the names it declares exist (and are constant or not). */
  record(declared: readonly Binding[]): void {
    for (const { name, kind } of declared) {
      if (kind !== 'var') this.bindings.set(name, kind === 'const');
    }
  }
}

/** The TypeScript a cell was transpiled from, and esbuild's source map back to it. */
export interface OriginalSource {
  source: string;
  map: string;
}

/** Declarations as the cell wrote them: TypeScript text found through the source map. */
class DeclarationTexts {
  // Parsed on first use: most cells declare no function or class.
  private parsed: { map: SourceMap; lineStarts: number[] } | undefined;

  constructor(private readonly original: OriginalSource) {}

  private get map(): { map: SourceMap; lineStarts: number[] } {
    if (this.parsed === undefined) {
      const lineStarts = [0];
      const { source } = this.original;
      for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
      this.parsed = { map: new SourceMap(JSON.parse(this.original.map) as never), lineStarts };
    }
    return this.parsed;
  }

  /** Offset in the TypeScript source of a transpiled node's start. */
  private offsetOf(node: AnyNode): number | undefined {
    const { line, column } = (node.loc as { start: { line: number; column: number } }).start;
    const { map, lineStarts } = this.map;
    const entry = map.findEntry(line - 1, column) as {
      originalLine?: number;
      originalColumn?: number;
    };
    if (entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
    return (lineStarts[entry.originalLine] ?? 0) + entry.originalColumn;
  }

  /** The TypeScript text from `from` up to `body` (the signature), and the doc comment. */
  of(statement: AnyNode, from: AnyNode, body: AnyNode, prefix: string): Declaration | undefined {
    const start = this.offsetOf(from);
    const end = this.offsetOf(body);
    if (start === undefined || end === undefined || end <= start) return undefined;
    const signature = this.original.source
      .slice(start, end)
      .trim()
      .replace(/\s*=>$/, '')
      .replace(/^export\s+(default\s+)?/, '');
    const statementStart = this.offsetOf(statement);
    const doc =
      statementStart === undefined
        ? undefined
        : docCommentBefore(this.original.source, statementStart);
    return { signature: `${prefix}${signature}`, doc };
  }
}

interface Edit {
  start: number;
  end: number;
  text: string;
  order: number;
}

// acorn's typings give only the common Node; the parts we read are typed here.
type AnyNode = Node & Record<string, unknown>;
interface Pattern extends Node {
  name?: string;
  properties?: Pattern[];
  elements?: (Pattern | null)[];
  value?: Pattern;
  argument?: Pattern;
  left?: Pattern;
}

/** Names bound by a declaration pattern (`a`, `{ b, c: [d] }`, `...rest`, `e = 1`). */
export function patternNames(pattern: Pattern): string[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name!];
    case 'ObjectPattern':
      return pattern.properties!.flatMap(property =>
        patternNames(property.type === 'RestElement' ? property.argument! : property.value!)
      );
    case 'ArrayPattern':
      return pattern.elements!.flatMap(element => (element ? patternNames(element) : []));
    case 'RestElement':
      return patternNames(pattern.argument!);
    case 'AssignmentPattern':
      return patternNames(pattern.left!);
    default:
      throw new Error(`unexpected binding pattern ${pattern.type}`);
  }
}

/** Names an assignment's target assigns (`a`, `[b, { c }]`); members (`o.p`) bind no name. */
function assignedNames(target: Pattern): string[] {
  switch (target.type) {
    case 'MemberExpression':
      return [];
    case 'ObjectPattern':
      return target.properties!.flatMap(property =>
        assignedNames(property.type === 'RestElement' ? property.argument! : property.value!)
      );
    case 'ArrayPattern':
      return target.elements!.flatMap(element => (element ? assignedNames(element) : []));
    case 'RestElement':
      return assignedNames(target.argument!);
    case 'AssignmentPattern':
      return assignedNames(target.left!);
    default:
      return patternNames(target);
  }
}

function visit(node: unknown, callback: (node: AnyNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visit(child, callback);
    return;
  }
  if (node === null || typeof node !== 'object' || typeof (node as Node).type !== 'string') return;
  callback(node as AnyNode);
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'type' && value !== null && typeof value === 'object') visit(value, callback);
  }
}

/**
 * Rewrites a transpiled cell so that it can use top-level `await` (the body runs in an async
 * function) while its top-level declarations outlive it: `const`/`let`/`var`/`class` become
 * assignments to `let` bindings of the context's script scope (declared in the header when
 * `scope` does not know them yet), functions are assigned to theirs too, static imports become
 * dynamic ones, and a trailing expression is returned as the cell's value. As `let`s the bindings
 * can be declared again, as re-running a cell does (as in the Chrome DevTools and Deno consoles);
 * an assignment to a constant one (a `const` or an import, of this cell or an earlier one) is
 * rewritten into a call that throws JavaScript's TypeError, unless the cell declares the name
 * again somewhere (it may be a different variable there). Edits never add or remove line breaks,
 * so line numbers survive.
 */
export function rewriteCell(
  code: string,
  original?: OriginalSource,
  scope: CellScope = new CellScope()
): RewrittenCell {
  const program = parse(code, {
    locations: original !== undefined,
    ecmaVersion: 'latest',
    sourceType: 'module',
    allowAwaitOutsideFunction: true,
    allowHashBang: true
  });
  const edits: Edit[] = [];
  // Insertions at one position land in the order they were made; `innermost` puts this one
  // first, for a closing text of the deepest construct ending there.
  const edit = (start: number, end: number, text: string, innermost = false) =>
    edits.push({ start, end, text, order: innermost ? -1 : edits.length });
  const blank = (start: number, end: number) =>
    edit(start, end, code.slice(start, end).replace(/[^\n]/g, ''));
  /** The cell's top-level bindings, in order, and whether each is constant. */
  const bound = new Map<string, BindingKind>();
  const bind = (names: readonly string[], kind: BindingKind) => {
    // A name the cells already hold in the script scope stays there, whatever declares it.
    for (const name of names) bound.set(name, kind === 'var' && scope.has(name) ? 'let' : kind);
  };
  const functions: string[] = [];
  const declarations = original && new DeclarationTexts(original);
  /** Records a function's or class's TypeScript declaration for inspection (see introspection). */
  const document = (
    name: string,
    statement: AnyNode,
    from: AnyNode,
    body: AnyNode,
    prefix = ''
  ) => {
    const declared = declarations?.of(statement, from, body, prefix);
    return declared ? `${KERNEL_HELPER}.document(${name}, ${JSON.stringify(declared)})` : '';
  };
  const documentFunctions: string[] = [];
  let importCount = 0;

  const body = program.body as AnyNode[];
  // `outer` is the statement as written (`export ...`): the doc comment stands before it.
  const declaration = (statement: AnyNode, outer = statement): void => {
    switch (statement.type) {
      case 'VariableDeclaration': {
        const declarators = statement.declarations as AnyNode[];
        edit(statement.start, declarators[0]!.start, '');
        for (const declarator of declarators) {
          const names = patternNames(declarator.id as Pattern);
          bind(names, statement.kind as BindingKind);
          const init = declarator.init as AnyNode | null;
          if (init) {
            const isFunction = /^(Arrow)?Function(Expression)$|^ClassExpression$/.test(init.type);
            const documented =
              isFunction && names.length === 1
                ? document(names[0]!, outer, declarator, init.body as AnyNode, `${statement.kind} `)
                : '';
            edit(declarator.start, declarator.start, '(');
            edit(declarator.end, declarator.end, (documented ? `, ${documented}` : '') + ')');
          } else if (statement.kind === 'var') {
            edit(declarator.start, declarator.end, 'void 0');
          } else {
            edit(declarator.start, declarator.start, '(');
            edit(declarator.end, declarator.end, ' = undefined)');
          }
        }
        break;
      }
      case 'ClassDeclaration': {
        const name = (statement.id as Pattern).name!;
        bind([name], 'let');
        edit(statement.start, statement.start, `${name} = `);
        const documented = document(name, outer, statement, statement.body as AnyNode);
        edit(statement.end, statement.end, documented ? `; ${documented};` : ';');
        break;
      }
      case 'FunctionDeclaration': {
        const name = (statement.id as Pattern).name!;
        // In the script scope like `let`, not on the global object as a script's would be: a
        // call from a loop then costs nothing extra (see CellScope).
        bind([name], 'let');
        functions.push(name);
        const documented = document(name, outer, statement, statement.body as AnyNode);
        if (documented) documentFunctions.push(`${documented}; `);
        break;
      }
      default:
        break;
    }
  };

  for (const statement of body) {
    switch (statement.type) {
      case 'ImportDeclaration': {
        const module = `${KERNEL_HELPER}_m${importCount++}`;
        const source = JSON.stringify((statement.source as AnyNode).value);
        const parts = [`const ${module} = await ${KERNEL_HELPER}.importModule(${source});`];
        const locals: string[] = [];
        for (const specifier of statement.specifiers as AnyNode[]) {
          const local = (specifier.local as Pattern).name!;
          locals.push(local);
          if (specifier.type === 'ImportDefaultSpecifier') {
            parts.push(`${local} = ${KERNEL_HELPER}.defaultExport(${module});`);
          } else if (specifier.type === 'ImportNamespaceSpecifier') {
            parts.push(`${local} = ${module};`);
          } else {
            const imported = specifier.imported as AnyNode;
            const name = imported.type === 'Identifier' ? imported.name : imported.value;
            parts.push(
              `${local} = ${KERNEL_HELPER}.namedExport(${module}, ${JSON.stringify(name)});`
            );
          }
        }
        // Imported bindings are constant, as in a module.
        bind(locals, 'const');
        const newlines = code.slice(statement.start, statement.end).replace(/[^\n]/g, '');
        edit(statement.start, statement.end, parts.join(' ') + newlines);
        break;
      }
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration': {
        const inner = statement.declaration as AnyNode | null;
        if (inner === null) {
          blank(statement.start, statement.end);
        } else {
          edit(statement.start, inner.start, '');
          if (inner.type === 'VariableDeclaration' || inner.id) declaration(inner, statement);
        }
        break;
      }
      case 'ExportAllDeclaration':
        blank(statement.start, statement.end);
        break;
      default:
        declaration(statement);
    }
  }

  // import('x') and import.meta anywhere in the cell go through the kernel's module loader; every
  // loop checks for an interrupt at the start of each turn (`continue` included), and every
  // function when it is called: a chain of promise callbacks or async calls without a loop would
  // otherwise keep the microtask queue busy for ever, out of reach of the event loop.
  visit(body, node => {
    if (FUNCTIONS.has(node.type)) {
      const functionBody = node.body as AnyNode;
      if (functionBody.type === 'BlockStatement') {
        // After the directive prologue: a guard before 'use strict' would make it a plain string.
        const directives = (functionBody.body as AnyNode[]).filter(
          statement => statement.directive !== undefined
        );
        const at = directives.at(-1)?.end ?? functionBody.start + 1;
        edit(at, at, ` ${INTERRUPT_GUARD}`);
      } else {
        edit(functionBody.start, functionBody.start, `(${INTERRUPT_CHECK}, `);
        // Before what encloses the function and ends with it (`const f = () => x`, a cell's
        // last expression); within the body only closing parentheses can end there too.
        edit(functionBody.end, functionBody.end, ')', true);
      }
    } else if (LOOPS.has(node.type)) {
      const loopBody = node.body as AnyNode;
      if (loopBody.type === 'BlockStatement') {
        edit(loopBody.start + 1, loopBody.start + 1, ` ${INTERRUPT_GUARD}`);
      } else {
        edit(loopBody.start, loopBody.start, `{ ${INTERRUPT_GUARD} `);
        edit(loopBody.end, loopBody.end, ' }');
      }
    } else if (node.type === 'ImportExpression') {
      edit(node.start, (node.source as AnyNode).start, `${KERNEL_HELPER}.importModule(`);
    } else if (node.type === 'MetaProperty' && (node.meta as Pattern).name === 'import') {
      edit(node.start, node.end, `${KERNEL_HELPER}.importMeta`);
    }
  });

  // Assignments to a constant binding throw, as they would to a real `const` (see rewriteCell).
  const constant = (name: string) =>
    bound.has(name) ? bound.get(name) === 'const' : scope.isConstant(name);
  const redeclared = namesDeclaredInside(body);
  const assignedConstant = (target: Pattern): string | undefined =>
    assignedNames(target).find(name => constant(name) && !redeclared.has(name));
  visit(body, node => {
    if (node.type === 'AssignmentExpression') {
      const name = assignedConstant(node.left as Pattern);
      if (name === undefined) return;
      const right = node.right as AnyNode;
      edit(node.start, right.start, `${KERNEL_HELPER}.assignToConstant(${JSON.stringify(name)}, `);
      edit(node.end, node.end, ')');
    } else if (node.type === 'UpdateExpression') {
      const name = assignedConstant(node.argument as Pattern);
      if (name !== undefined) {
        edit(node.start, node.end, `${KERNEL_HELPER}.assignToConstant(${JSON.stringify(name)})`);
      }
    }
  });

  const last = body.at(-1);
  if (last?.type === 'ExpressionStatement') {
    // The statement's range, not the expression's: acorn leaves enclosing parentheses outside it.
    const end = code[last.end - 1] === ';' ? last.end - 1 : last.end;
    edit(last.start, last.start, 'return { value: (');
    edit(end, end, ') }');
  }

  // Apply from the end; at one position, replacements before insertions, insertions in order.
  edits.sort(
    (a, b) =>
      b.start - a.start ||
      Number(a.start === a.end) - Number(b.start === b.end) ||
      b.order - a.order
  );
  let rewritten = code;
  for (const { start, end, text } of edits) {
    rewritten = rewritten.slice(0, start) + text + rewritten.slice(end);
  }

  const named = (kind: (kind: BindingKind) => boolean) =>
    [...bound].flatMap(([name, bindingKind]) => (kind(bindingKind) ? [name] : []));
  const fresh = named(kind => kind !== 'var').filter(name => !scope.has(name));
  const globals = named(kind => kind === 'var');
  // Functions are declared (hoisted) inside the cell's function; the header hands each to its
  // script-scope binding through a setter made outside, where the name means that binding.
  const value = `${KERNEL_HELPER}_value`;
  const setters = functions.map(name => `${name}: (${value}) => { ${name} = ${value}; }`);
  const header =
    (fresh.length > 0 ? `let ${fresh.join(', ')}; ` : '') +
    `(async (${KERNEL_HELPER}_global, ${KERNEL_HELPER}_functions) => { ` +
    (globals.length > 0
      ? `${KERNEL_HELPER}.declareGlobals(${KERNEL_HELPER}_global, ${JSON.stringify(globals)}); `
      : '') +
    functions.map(name => `${KERNEL_HELPER}_functions.${name}(${name}); `).join('') +
    documentFunctions.join('');
  return {
    script: `${header}\n${rewritten}\n})(globalThis, { ${setters.join(', ')} });`,
    declared: [...bound].map(([name, kind]) => ({ name, kind }))
  };
}

/**
 * Names the cell declares below its top level (in functions, blocks, parameters, catch clauses):
 * there the name may be another variable than the top-level one.
 */
function namesDeclaredInside(body: AnyNode[]): Set<string> {
  const names = new Set<string>();
  const topLevel = new Set<unknown>();
  for (const statement of body) {
    const declaration = (statement.declaration as AnyNode | null | undefined) ?? statement;
    topLevel.add(declaration);
  }
  const add = (pattern: unknown) => {
    if (pattern) for (const name of patternNames(pattern as Pattern)) names.add(name);
  };
  visit(body, node => {
    switch (node.type) {
      case 'VariableDeclaration':
        if (!topLevel.has(node)) for (const d of node.declarations as AnyNode[]) add(d.id);
        break;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        if (node.type !== 'FunctionDeclaration' || !topLevel.has(node)) add(node.id);
        for (const parameter of node.params as AnyNode[]) add(parameter);
        break;
      case 'ClassDeclaration':
      case 'ClassExpression':
        if (node.type !== 'ClassDeclaration' || !topLevel.has(node)) add(node.id);
        break;
      case 'CatchClause':
        add(node.param);
        break;
      default:
        break;
    }
  });
  return names;
}

/**
 * Declares what the loops of rewritten cells check, once per context, after the kernel helper
 * (with its CellHelpers) is defined there.
 */
export function declareInterruptBindings(context: vm.Context): void {
  const interrupts = `${KERNEL_HELPER}.interrupts`;
  vm.runInContext(
    `const ${INTERRUPT_FLAG} = ${interrupts}.flag, ${INTERRUPT_RAISE} = ${interrupts}.raise;`,
    context
  );
}

/** What rewritten cells call through the kernel helper. */
export interface CellHelpers {
  /** An assignment to a constant binding: throws JavaScript's TypeError, of the cells' realm. */
  assignToConstant(name: string, value?: unknown): never;
  /** Before a cell's `var`s are assigned: each is a property of the global object. */
  declareGlobals(global: object, names: readonly string[]): void;
  /** Keeps a function's or class's TypeScript declaration for inspection. */
  document(value: unknown, declaration: Declaration): void;
  /** What every loop and function checks (see INTERRUPT_GUARD). */
  interrupts: CellInterrupts;
}

/** `global` is the cells' global object: the TypeError is theirs, so `instanceof` holds in a cell. */
export function cellHelpers(global: object): CellHelpers {
  const CellTypeError = (global as Record<string, unknown>).TypeError as ErrorConstructor;
  return {
    document: documentValue,
    interrupts: cellInterrupts(),
    assignToConstant() {
      throw new CellTypeError('Assignment to constant variable.');
    },
    declareGlobals(global, names) {
      // Configurable, unlike a script's own `var`: a later cell may declare the name with `let`.
      for (const name of names) {
        if (!Object.hasOwn(global, name)) {
          Object.defineProperty(global, name, {
            value: undefined,
            writable: true,
            enumerable: true,
            configurable: true
          });
        }
      }
    }
  };
}
