/**
 * The SQL Gateway's answers, read without any I/O: result pages (v2+ with rowFormat=JSON),
 * which carry a changelog to apply, and error bodies, whose root cause is what a user needs.
 */

export interface FlinkColumn {
  name: string;
  /** Flink's logical type, e.g. "BIGINT", "VARCHAR". */
  type: string;
  nullable: boolean;
}

/** How a row changes the result (a streaming query's aggregates are updated in place). */
export type RowKind = 'INSERT' | 'UPDATE_BEFORE' | 'UPDATE_AFTER' | 'DELETE';

export interface RowChange {
  kind: RowKind;
  fields: unknown[];
}

export interface ResultPage {
  /** NOT_READY: ask again; PAYLOAD: rows (maybe none) and more to come; EOS: the end. */
  resultType: 'NOT_READY' | 'PAYLOAD' | 'EOS';
  /** Set once the statement has made a job (a query, an INSERT). */
  jobId?: string;
  /** "SUCCESS" (DDL and the like) or "SUCCESS_WITH_CONTENT". */
  resultKind?: string;
  columns?: FlinkColumn[];
  changes: RowChange[];
  /** The next page's path (absent at EOS). */
  nextResultUri?: string;
}

const RESULT_TYPES = ['NOT_READY', 'PAYLOAD', 'EOS'];
const ROW_KINDS = ['INSERT', 'UPDATE_BEFORE', 'UPDATE_AFTER', 'DELETE'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function columnOf(value: unknown, index: number): FlinkColumn {
  const logicalType = isRecord(value) ? value.logicalType : undefined;
  if (!isRecord(value) || typeof value.name !== 'string' || !isRecord(logicalType)) {
    throw new Error(
      `Result column ${index} is ${JSON.stringify(value)}: expected {name, logicalType: {type, nullable}}`
    );
  }
  return {
    name: value.name,
    type: String(logicalType.type),
    nullable: logicalType.nullable !== false
  };
}

function changeOf(value: unknown, index: number): RowChange {
  if (!isRecord(value) || !ROW_KINDS.includes(String(value.kind)) || !Array.isArray(value.fields)) {
    throw new Error(
      `Result row ${index} is ${JSON.stringify(value)?.slice(0, 200)}: expected {kind: INSERT|UPDATE_BEFORE|UPDATE_AFTER|DELETE, fields: [...]} (rowFormat=JSON)`
    );
  }
  return { kind: value.kind as RowKind, fields: value.fields as unknown[] };
}

/** A result page as the gateway sends it; throws naming what is not as expected. */
export function parseResultPage(body: unknown): ResultPage {
  if (!isRecord(body) || !RESULT_TYPES.includes(String(body.resultType))) {
    throw new Error(
      `The SQL Gateway sent the result page ${JSON.stringify(body)?.slice(0, 200)}: expected a resultType of ${RESULT_TYPES.join(', ')}`
    );
  }
  const results = isRecord(body.results) ? body.results : undefined;
  if (results !== undefined && results.rowFormat !== undefined && results.rowFormat !== 'JSON') {
    throw new Error(`The SQL Gateway sent rows as ${String(results.rowFormat)}: expected JSON`);
  }
  const data = Array.isArray(results?.data) ? results.data : [];
  return {
    resultType: body.resultType as ResultPage['resultType'],
    ...(typeof body.jobID === 'string' ? { jobId: body.jobID } : {}),
    ...(typeof body.resultKind === 'string' ? { resultKind: body.resultKind } : {}),
    ...(Array.isArray(results?.columns) ? { columns: results.columns.map(columnOf) } : {}),
    changes: data.map(changeOf),
    ...(typeof body.nextResultUri === 'string' ? { nextResultUri: body.nextResultUri } : {})
  };
}

function sameFields(a: unknown[], b: unknown[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Applies a changelog to the rows so far: INSERT and UPDATE_AFTER add a row, UPDATE_BEFORE and
 * DELETE remove an equal one (the last, as a retraction usually takes back the newest).
 */
export function applyChanges(rows: unknown[][], changes: readonly RowChange[]): void {
  for (const change of changes) {
    if (change.kind === 'INSERT' || change.kind === 'UPDATE_AFTER') {
      rows.push(change.fields);
      continue;
    }
    let index = rows.length - 1;
    while (index >= 0 && !sameFields(rows[index]!, change.fields)) index--;
    if (index < 0) {
      throw new Error(
        `The result retracts the row ${JSON.stringify(change.fields)} (${change.kind}), which it never added`
      );
    }
    rows.splice(index, 1);
  }
}

/** "org.apache.flink...SomeException: text" → "text" (a bare class name stays). */
function withoutExceptionClass(line: string): string {
  const found =
    /^(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)?: ([\s\S]*)$/.exec(line);
  return found !== null ? found[1]!.trim() : line.trim();
}

/** The message of a Java stack trace's last cause (what went wrong, without the wrappers). */
function rootOfTrace(trace: string): string {
  // The gateway wraps a server-side trace in these two lines.
  const lines = trace
    .split('\n')
    .filter(
      line => line !== '<Exception on server side:' && line !== 'End of exception on server side>'
    );
  const isFrame = (line: string): boolean =>
    /^\s+at /.test(line) || /^\s*\.\.\. \d+ more$/.test(line) || line.startsWith('Caused by: ');
  let start = -1;
  lines.forEach((line, index) => {
    if (line.startsWith('Caused by: ')) start = index;
  });
  const first = start >= 0 ? lines[start]!.slice('Caused by: '.length) : lines[0]!;
  const rest: string[] = [];
  for (const line of lines.slice((start >= 0 ? start : 0) + 1)) {
    if (isFrame(line)) break;
    rest.push(line);
  }
  return withoutExceptionClass([first, ...rest].join('\n'));
}

/**
 * What an error body (`{"errors": [...]}`) says went wrong: the root cause of the last entry
 * that carries a trace (the first is often just "Internal server error.").
 */
export function rootCauseOf(body: unknown): string | undefined {
  const errors = isRecord(body) && Array.isArray(body.errors) ? body.errors : undefined;
  const texts = (errors ?? []).filter(
    (error): error is string => typeof error === 'string' && error.trim() !== ''
  );
  if (texts.length === 0) return undefined;
  const withTrace = [...texts].reverse().find(text => text.includes('\n'));
  return rootOfTrace(withTrace ?? texts[texts.length - 1]!);
}
