import { SourceMap } from 'node:module';
import { inspect } from 'node:util';

/** What Jupyter's error message carries. */
export interface ErrorReport {
  ename: string;
  evalue: string;
  traceback: string[];
}

const RED = '\u001b[0;31m';
const GREEN = '\u001b[0;32m';
const RESET = '\u001b[0m';

/** Cells are compiled under names like `<cell-3>`; stack frames then point into them. */
export const cellFileName = (label: string) => `<${label}>`;
const CELL_POSITION = /<([\w-]+)>:(\d+):(\d+)/g;

interface MappedFrame {
  text: string;
  first?: { label: string; line: number; column: number };
}

interface CellRecord {
  map: SourceMap;
  lines: string[];
  /** Lines of transpiled code; frames beyond it are the kernel's wrapper around the cell. */
  generatedLines: number;
}

/**
 * Source maps of every cell run so far, so that frames in functions defined by earlier cells map
 * back to those cells' source too.
 */
export class CellSources {
  private readonly cells = new Map<string, CellRecord>();

  add(label: string, sourceMapJson: string, source: string, generatedLines: number): void {
    this.cells.set(label, {
      map: new SourceMap(JSON.parse(sourceMapJson)),
      lines: source.split('\n'),
      generatedLines
    });
  }

  /** Maps a 1-based line/column of transpiled code to the cell's own source. */
  map(label: string, line: number, column: number): { line: number; column: number } | undefined {
    const cell = this.cells.get(label);
    if (cell === undefined || line < 1 || line > cell.generatedLines) return undefined;
    const entry = cell.map.findEntry(line - 1, column - 1) as {
      originalLine?: number;
      originalColumn?: number;
    };
    if (entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
    return { line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  }

  /**
   * Rewrites every `<cell-N>:line:col` in a stack frame to cell coordinates; undefined for frames
   * of the wrapper the kernel puts around a cell (nothing of the user's to show).
   */
  mapFrame(frame: string): MappedFrame | undefined {
    let first: MappedFrame['first'];
    let wrapper = false;
    const text = frame.replace(
      CELL_POSITION,
      (whole, label: string, line: string, column: string) => {
        const mapped = this.map(label, Number(line), Number(column));
        if (mapped === undefined) {
          wrapper ||= this.cells.has(label);
          return whole;
        }
        first ??= { label, ...mapped };
        return `${cellFileName(label)}:${mapped.line}:${mapped.column}`;
      }
    );
    if (wrapper && first === undefined) return undefined;
    return first === undefined ? { text } : { text, first };
  }

  /** A few lines of a cell around `line`, with an arrow, IPython style. */
  excerpt(label: string, line: number): string | undefined {
    const cell = this.cells.get(label);
    if (cell === undefined || line < 1 || line > cell.lines.length) return undefined;
    const from = Math.max(1, line - 2);
    const to = Math.min(cell.lines.length, line + 2);
    const width = String(to).length;
    const rows = [];
    for (let number = from; number <= to; number++) {
      const marker = number === line ? `${GREEN}--> ` : '    ';
      rows.push(`${marker}${String(number).padStart(width)}${RESET} ${cell.lines[number - 1]}`);
    }
    return `${GREEN}${cellFileName(label)}${RESET}, line ${line}:\n${rows.join('\n')}`;
  }
}

function describe(error: unknown): { ename: string; evalue: string; stack: string | undefined } {
  if (error !== null && typeof error === 'object') {
    const candidate = error as { name?: unknown; message?: unknown; stack?: unknown };
    if (typeof candidate.message === 'string') {
      const ename =
        typeof candidate.name === 'string' && candidate.name !== ''
          ? candidate.name
          : (error.constructor?.name ?? 'Error');
      const stack = typeof candidate.stack === 'string' ? candidate.stack : undefined;
      return { ename, evalue: candidate.message, stack };
    }
  }
  return { ename: 'Uncaught', evalue: inspect(error), stack: undefined };
}

/**
 * Turns a thrown value into Jupyter's error fields: the stack mapped to cell lines, frames of the
 * kernel's own machinery (`hiddenPaths`) dropped, and the source lines where it happened.
 */
export function reportError(
  error: unknown,
  sources: CellSources,
  hiddenPaths: readonly string[] = []
): ErrorReport {
  const { ename, evalue, stack } = describe(error);
  const header = `${RED}${ename}${RESET}: ${evalue}`;
  if (stack === undefined) return { ename, evalue, traceback: [header] };
  const frames = stack
    .split('\n')
    .filter(line => /^\s+at /.test(line))
    .filter(line => !hiddenPaths.some(hidden => line.includes(hidden)));
  let innermost: { label: string; line: number } | undefined;
  const mapped = frames.flatMap(frame => {
    const result = sources.mapFrame(frame);
    if (result === undefined) return [];
    innermost ??= result.first;
    return [result.text];
  });
  const traceback = [header, ...mapped];
  const excerpt = innermost && sources.excerpt(innermost.label, innermost.line);
  if (excerpt !== undefined) traceback.push('', excerpt);
  return { ename, evalue, traceback };
}
