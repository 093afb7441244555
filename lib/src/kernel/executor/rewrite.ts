import { parse, type Node } from 'acorn';

/** The global through which rewritten cells reach the kernel (imports, magics). */
export const KERNEL_HELPER = '__pilotStreamingKernel';

export interface RewrittenCell {
  /**
   * A script to run in the kernel's context. Its first line is a header; line N + 1 of the script
   * is line N of the input, so run it with lineOffset -1. Evaluates to a promise of
   * `{ value }` when the cell ends with an expression, otherwise of undefined.
   */
  script: string;
  /** Top-level names the cell binds (they become globals of the context). */
  declared: string[];
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
 * assignments to globals declared with `var` in the header, functions are copied to the global
 * object, static imports become dynamic ones, and a trailing expression is returned as the
 * cell's value. Edits never add or remove line breaks, so line numbers survive.
 */
export function rewriteCell(code: string): RewrittenCell {
  const program = parse(code, {
    ecmaVersion: 'latest',
    sourceType: 'module',
    allowAwaitOutsideFunction: true,
    allowHashBang: true
  });
  const edits: Edit[] = [];
  const edit = (start: number, end: number, text: string) =>
    edits.push({ start, end, text, order: edits.length });
  const blank = (start: number, end: number) =>
    edit(start, end, code.slice(start, end).replace(/[^\n]/g, ''));
  const hoisted = new Set<string>();
  const functions: string[] = [];
  let importCount = 0;

  const body = program.body as AnyNode[];
  const declaration = (statement: AnyNode): void => {
    switch (statement.type) {
      case 'VariableDeclaration': {
        const declarators = statement.declarations as AnyNode[];
        edit(statement.start, declarators[0]!.start, '');
        for (const declarator of declarators) {
          for (const name of patternNames(declarator.id as Pattern)) hoisted.add(name);
          if (declarator.init) {
            edit(declarator.start, declarator.start, '(');
            edit(declarator.end, declarator.end, ')');
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
        hoisted.add(name);
        edit(statement.start, statement.start, `${name} = `);
        edit(statement.end, statement.end, ';');
        break;
      }
      case 'FunctionDeclaration':
        functions.push((statement.id as Pattern).name!);
        break;
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
        for (const specifier of statement.specifiers as AnyNode[]) {
          const local = (specifier.local as Pattern).name!;
          hoisted.add(local);
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
          if (inner.type === 'VariableDeclaration' || inner.id) declaration(inner);
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

  // import('x') and import.meta anywhere in the cell go through the kernel's module loader.
  visit(body, node => {
    if (node.type === 'ImportExpression') {
      edit(node.start, (node.source as AnyNode).start, `${KERNEL_HELPER}.importModule(`);
    } else if (node.type === 'MetaProperty' && (node.meta as Pattern).name === 'import') {
      edit(node.start, node.end, `${KERNEL_HELPER}.importMeta`);
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

  const declared = [...hoisted, ...functions];
  const header =
    (hoisted.size > 0 ? `var ${[...hoisted].join(', ')}; ` : '') +
    `(async (${KERNEL_HELPER}_global) => { ` +
    functions.map(name => `${KERNEL_HELPER}_global.${name} = ${name}; `).join('');
  return { script: `${header}\n${rewritten}\n})(globalThis);`, declared };
}
