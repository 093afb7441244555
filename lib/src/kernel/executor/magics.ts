import { LineScanner } from './scanner.js';

/** A magic found in a cell. */
export interface MagicLine {
  kind: 'line' | 'cell';
  /** 1-based line in the cell. */
  line: number;
  name: string;
  args: string;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const LINE_MAGIC = /^(\s*)%([A-Za-z_][\w.-]*)(?:[ \t]+(.*?))?\s*$/;

/** `%%name args` as the first code line of a cell. */
const CELL_MAGIC = /^\s*%%([A-Za-z_][\w.-]*)(?:[ \t]+(.*?))?\s*$/;

/**
 * Finds magics and replaces each by a call on the same line, so magics run in order with the code
 * around them and every other line keeps its number (stack traces and syntax errors stay mapped
 * to the cell). `%name args` at the start of a line that begins in code (not inside a string,
 * template literal, comment or regex) becomes `await callees.line(name, args)`; a
 * cell whose first code line is `%%name args` becomes one `await callees.cell(name, args, body,
 * { file, line })`, whose value is the cell's result; `file` (the cell's name in tracebacks) and
 * `line` (the cell line the body starts on) let the magic report errors at cell positions.
 * Arguments expand `{expression}` (see magicArguments).
 */
export function replaceMagics(
  source: string,
  callees: { line: string; cell: string; file?: string }
): { code: string; magics: MagicLine[] } {
  const lines = source.split('\n');
  const first = lines.findIndex(line => line.trim() !== '');
  if (first >= 0 && /^\s*%%/.test(lines[first]!)) {
    const match = CELL_MAGIC.exec(lines[first]!);
    if (match === null) {
      throw new UsageError(`cell magic line ${JSON.stringify(lines[first])}: expected %%name args`);
    }
    const [, name, args = ''] = match;
    const body = lines.slice(first + 1).join('\n');
    const where = JSON.stringify({ file: callees.file ?? '<cell>', line: first + 2 });
    const call = `await ${callees.cell}(${JSON.stringify(name)}, ${magicArguments(args)}, ${JSON.stringify(body)}, ${where});`;
    const code = [
      ...lines.slice(0, first).map(() => ''),
      call,
      ...lines.slice(first + 1).map(() => '')
    ];
    return {
      code: code.join('\n'),
      magics: [{ kind: 'cell', line: first + 1, name: name!, args }]
    };
  }
  const magics: MagicLine[] = [];
  // A `%` line inside a string, template literal, comment or regex is data, not a magic.
  const scanner = new LineScanner();
  const code = lines
    .map((text, index) => {
      const match = scanner.inCode ? LINE_MAGIC.exec(text) : null;
      if (match === null) {
        scanner.scanLine(text);
        return text;
      }
      scanner.skipLine();
      const [, indent, name, args = ''] = match;
      magics.push({ kind: 'line', line: index + 1, name: name!, args });
      return `${indent}await ${callees.line}(${JSON.stringify(name)}, ${magicArguments(args)});`;
    })
    .join('\n');
  return { code, magics };
}

/**
 * The argument text of a magic as a JavaScript expression. As in IPython, `{expression}` is
 * replaced by the expression's value, evaluated where the magic stands (so `%pilot cancel
 * {pilot.id}` works), and `{{` / `}}` are literal braces. Everything else is literal.
 */
export function magicArguments(args: string): string {
  if (!/[{}]/.test(args)) return JSON.stringify(args);
  let template = '';
  for (let i = 0; i < args.length; i += 1) {
    const char = args[i]!;
    if ((char === '{' || char === '}') && args[i + 1] === char) {
      template += char;
      i += 1;
    } else if (char === '{') {
      const end = args.indexOf('}', i + 1);
      const expression = end < 0 ? '' : args.slice(i + 1, end).trim();
      if (expression === '') {
        throw new UsageError(
          `magic arguments ${JSON.stringify(args)}: "{" at column ${i + 1} expected an expression and a closing "}" (write {{ for a literal brace)`
        );
      }
      template += '${' + expression + '}';
      i = end;
    } else if (char === '}') {
      throw new UsageError(
        `magic arguments ${JSON.stringify(args)}: "}" at column ${i + 1} has no opening "{" (write }} for a literal brace)`
      );
    } else {
      template += char === '`' || char === '\\' || char === '$' ? `\\${char}` : char;
    }
  }
  return `\`${template}\``;
}
