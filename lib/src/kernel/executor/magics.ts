/** A `%name args` line of a cell. */
export interface MagicLine {
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

/**
 * Finds line magics (`%name args` at the start of a line) and replaces each by a call of
 * `callee(name, args)` on the same line, so magics run in order with the code around them and
 * every other line keeps its number (stack traces and syntax errors stay mapped to the cell).
 */
export function replaceLineMagics(
  source: string,
  callee: string
): { code: string; magics: MagicLine[] } {
  const magics: MagicLine[] = [];
  const lines = source.split('\n');
  const firstCodeLine = lines.find(line => line.trim() !== '');
  if (firstCodeLine !== undefined && /^\s*%%/.test(firstCodeLine)) {
    const name = /^\s*%%(\S*)/.exec(firstCodeLine)![1];
    throw new UsageError(`Cell magic %%${name} is not supported: only line magics (%name args)`);
  }
  const code = lines
    .map((text, index) => {
      const match = LINE_MAGIC.exec(text);
      if (match === null) return text;
      const [, indent, name, args = ''] = match;
      magics.push({ line: index + 1, name: name!, args });
      return `${indent}await ${callee}(${JSON.stringify(name)}, ${JSON.stringify(args)});`;
    })
    .join('\n');
  return { code, magics };
}
