import { stop, transform, type Message, type TransformOptions } from 'esbuild';
import { LineScanner } from './scanner.js';

export interface Transpiled {
  code: string;
  /** Source map (JSON) from `code` back to the cell source. */
  map: string;
}

/** A syntax error in a cell, with its 1-based line and column in the cell. */
export class CellSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly lineText: string
  ) {
    super(`${reason} (${line}:${column})`);
    this.name = 'SyntaxError';
  }
}

function toSyntaxError(message: Message): CellSyntaxError {
  const location = message.location;
  return new CellSyntaxError(
    message.text,
    location?.line ?? 1,
    (location?.column ?? 0) + 1,
    location?.lineText ?? ''
  );
}

/**
 * esbuild transforms in a child process of the kernel. Jupyter interrupts the kernel by sending
 * SIGINT to its process group, which ends that child too: start a new one and try again. Quick
 * interrupts can end the new one as well, so try a few times; the executor then turns the
 * interrupt it kept into the cell's KeyboardInterrupt.
 */
const TRANSFORM_ATTEMPTS = 5;

async function transformWithRestart(source: string, options: TransformOptions) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transform(source, options);
    } catch (error) {
      const serviceEnded = /service is no longer running|service was stopped/.test(
        (error as Error).message
      );
      if (!serviceEnded || attempt === TRANSFORM_ATTEMPTS) throw error;
      await stop();
    }
  }
}

/**
 * TypeScript to JavaScript for one cell. Import statements are kept even when their bindings look
 * unused (verbatimModuleSyntax): a cell's imports are meant for later cells too.
 */
export async function transpileCell(source: string, sourcefile: string): Promise<Transpiled> {
  try {
    const result = await transformWithRestart(source, {
      loader: 'ts',
      target: 'node20',
      sourcemap: 'external',
      sourcefile,
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } }
    });
    return { code: result.code, map: result.map };
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (errors !== undefined && errors.length > 0) throw toSyntaxError(errors[0]!);
    throw error;
  }
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** A source-map number: base64 VLQ, sign in the lowest bit. */
function vlq(value: number): string {
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let text = '';
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    text += BASE64[digit];
  } while (rest > 0);
  return text;
}

/**
 * Code that needs no transpiling (a cell magic's call, whose body is data), with a source map
 * from every position to the same one in `source` (the cell): the magic reports errors in its
 * body at cell positions, on lines that are blank in `code`, so every column of the longer of
 * the two lines is mapped.
 */
export function untranspiled(code: string, source: string, sourcefile: string): Transpiled {
  const sourceLines = source.split('\n');
  let previousLine = 0;
  let previousColumn = 0;
  const lines = code.split('\n').map((text, line) => {
    const width = Math.max(text.length, sourceLines[line]?.length ?? 0);
    const segments: string[] = [];
    for (let column = 0; column < width; column++) {
      // [generated column, source, original line, original column], each relative.
      const generated = column === 0 ? 0 : 1;
      segments.push(
        vlq(generated) + vlq(0) + vlq(line - previousLine) + vlq(column - previousColumn)
      );
      previousLine = line;
      previousColumn = column;
    }
    return segments.join(',');
  });
  const map = { version: 3, sources: [sourcefile], names: [], mappings: lines.join(';') };
  return { code, map: JSON.stringify(map) };
}

export type Completeness = 'complete' | 'incomplete' | 'invalid';

/** For is_complete_request: does the code parse, or does it just end too early? */
export async function checkCompleteness(source: string): Promise<Completeness> {
  try {
    await transformWithRestart(source, { loader: 'ts', target: 'node20' });
    return 'complete';
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (errors === undefined) throw error;
    // esbuild says "Unexpected end of file" or "Expected ... but found end of file" where more
    // code would do. An open template literal or comment it names otherwise ("Unterminated
    // string literal", as for an open '...' string, which may not continue on the next line).
    const scanner = new LineScanner();
    for (const line of source.split('\n')) scanner.scanLine(line);
    const unfinished =
      errors.some(message => /end of file/.test(message.text)) ||
      scanner.openLiteral === 'template' ||
      scanner.openLiteral === 'block-comment';
    return unfinished ? 'incomplete' : 'invalid';
  }
}
