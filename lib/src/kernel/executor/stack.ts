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
/** The labels the kernel gives cells (`cell-<count>`, `silent-<n>`); `<anonymous>` is not one. */
const KERNEL_CELL_LABEL = /^(cell|silent)-\d+$/;

interface MappedFrame {
  text: string;
  first?: { label: string; line: number; column: number };
}

/**
 * What is kept of every cell: its source (the same string the history holds) and the compact,
 * still-encoded source map. Parsed maps are far larger (an object per mapping), so only a few are
 * kept, and re-parsed from `mappings` when an older cell's frame needs one.
 */
interface CellRecord {
  source: string;
  mappings: string;
  names: string[];
  /** Lines of transpiled code; frames beyond it are the kernel's wrapper around the cell. */
  generatedLines: number;
  /** What this record counts against the byte budget. */
  bytes: number;
}

export interface CellSourcesLimits {
  /** Parsed source maps kept (most recently used first). */
  parsedMaps?: number;
  /** Bytes of cell sources and encoded mappings kept; the least recently used cells go first. */
  maxBytes?: number;
}

const DEFAULT_LIMITS: Required<CellSourcesLimits> = { parsedMaps: 32, maxBytes: 16 * 1024 * 1024 };

/**
 * Source maps of the cells run so far, so that frames in functions defined by earlier cells map
 * back to those cells' source too. Memory is bounded: a few parsed maps, and the compact records
 * within a byte budget; a frame of a cell dropped from the budget keeps its compiled position
 * and says so.
 */
export class CellSources {
  /** In order of last use: the first entries are dropped first. */
  private readonly cells = new Map<string, CellRecord>();
  private readonly parsed = new Map<string, SourceMap>();
  private bytes = 0;
  private readonly limits: Required<CellSourcesLimits>;

  constructor(limits: CellSourcesLimits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  add(label: string, sourceMapJson: string, source: string, generatedLines: number): void {
    const { mappings, names } = JSON.parse(sourceMapJson) as { mappings: string; names?: string[] };
    this.forget(label);
    // Two bytes per character: what V8 needs at worst for a string.
    const bytes = 2 * (source.length + mappings.length);
    this.cells.set(label, { source, mappings, names: names ?? [], generatedLines, bytes });
    this.bytes += bytes;
    while (this.bytes > this.limits.maxBytes && this.cells.size > 1) {
      this.forget(this.cells.keys().next().value!);
    }
  }

  /** How much is kept: cells with records, parsed maps, bytes of the records. */
  get retained(): { cells: number; parsedMaps: number; bytes: number } {
    return { cells: this.cells.size, parsedMaps: this.parsed.size, bytes: this.bytes };
  }

  private forget(label: string): void {
    const record = this.cells.get(label);
    if (record === undefined) return;
    this.cells.delete(label);
    this.parsed.delete(label);
    this.bytes -= record.bytes;
  }

  /** The record of a cell, marked as just used (a cell whose functions still throw stays). */
  private use(label: string): CellRecord | undefined {
    const record = this.cells.get(label);
    if (record === undefined) return undefined;
    this.cells.delete(label);
    this.cells.set(label, record);
    return record;
  }

  private sourceMap(label: string, record: CellRecord): SourceMap {
    let map = this.parsed.get(label);
    if (map === undefined) {
      map = new SourceMap({
        version: 3,
        file: cellFileName(label),
        sources: [cellFileName(label)],
        sourcesContent: [],
        names: record.names,
        mappings: record.mappings,
        sourceRoot: ''
      });
    } else {
      this.parsed.delete(label);
    }
    this.parsed.set(label, map);
    if (this.parsed.size > this.limits.parsedMaps) {
      this.parsed.delete(this.parsed.keys().next().value!);
    }
    return map;
  }

  /** Maps a 1-based line/column of transpiled code to the cell's own source. */
  map(label: string, line: number, column: number): { line: number; column: number } | undefined {
    const cell = this.use(label);
    if (cell === undefined || line < 1 || line > cell.generatedLines) return undefined;
    const entry = this.sourceMap(label, cell).findEntry(line - 1, column - 1) as {
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
          if (this.cells.has(label)) {
            wrapper = true;
          } else if (KERNEL_CELL_LABEL.test(label)) {
            // Every cell run is added: this one was dropped to stay within the byte budget.
            return `${whole} (compiled JavaScript: its source map is no longer kept)`;
          }
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
    const record = this.cells.get(label);
    const lines = record?.source.split('\n');
    if (lines === undefined || line < 1 || line > lines.length) return undefined;
    const from = Math.max(1, line - 2);
    const to = Math.min(lines.length, line + 2);
    const width = String(to).length;
    const rows = [];
    for (let number = from; number <= to; number++) {
      const marker = number === line ? `${GREEN}--> ` : '    ';
      rows.push(`${marker}${String(number).padStart(width)}${RESET} ${lines[number - 1]}`);
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
