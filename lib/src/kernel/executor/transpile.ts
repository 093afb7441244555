import { stop, transform, type Message, type TransformOptions } from 'esbuild';

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
 * SIGINT to its process group, which ends that child too: start a new one and try again.
 */
async function transformWithRestart(source: string, options: TransformOptions) {
  try {
    return await transform(source, options);
  } catch (error) {
    if (!/service is no longer running|service was stopped/.test((error as Error).message)) {
      throw error;
    }
    await stop();
    return transform(source, options);
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

export type Completeness = 'complete' | 'incomplete' | 'invalid';

/** For is_complete_request: does the code parse, or does it just end too early? */
export async function checkCompleteness(source: string): Promise<Completeness> {
  try {
    await transformWithRestart(source, { loader: 'ts', target: 'node20' });
    return 'complete';
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors ?? [];
    // esbuild names an open template literal "Unterminated string literal", as it does an open
    // '...' string; only the template may continue on the next line.
    const openTemplate = (source.match(/`/g)?.length ?? 0) % 2 === 1;
    const unfinished = errors.some(
      message =>
        /Unexpected end of file|Expected ".*" but found end of file/.test(message.text) ||
        (openTemplate && message.text === 'Unterminated string literal')
    );
    return unfinished ? 'incomplete' : 'invalid';
  }
}
