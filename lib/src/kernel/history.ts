/** One stored input, as history_request returns it: [session, line, input]. */
export type HistoryEntry = [session: number, line: number, input: string];

/** The kernel keeps the inputs of this session only; it is session number 1. */
export const CURRENT_SESSION = 1;

export interface HistoryQuery {
  hist_access_type?: unknown;
  session?: unknown;
  start?: unknown;
  stop?: unknown;
  n?: unknown;
  pattern?: unknown;
  unique?: unknown;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
}

/** Answers history_request's three access types over this session's inputs. */
export function queryHistory(inputs: readonly HistoryEntry[], query: HistoryQuery): HistoryEntry[] {
  const n = typeof query.n === 'number' && query.n >= 0 ? query.n : undefined;
  const limit = (entries: HistoryEntry[]) =>
    n === undefined ? entries : n === 0 ? [] : entries.slice(-n);
  switch (query.hist_access_type) {
    case 'tail':
      return limit([...inputs]);
    case 'range': {
      const session = typeof query.session === 'number' ? query.session : 0;
      if (session !== 0 && session !== CURRENT_SESSION) return [];
      const start = typeof query.start === 'number' ? query.start : 1;
      const stop = typeof query.stop === 'number' ? query.stop : Infinity;
      return inputs.filter(([, line]) => line >= start && line < stop);
    }
    case 'search': {
      const pattern = globToRegExp(typeof query.pattern === 'string' ? query.pattern : '*');
      let found = inputs.filter(([, , input]) => pattern.test(input));
      if (query.unique === true) {
        const seen = new Set<string>();
        found = found
          .reverse()
          .filter(([, , input]) => !seen.has(input) && seen.add(input) !== undefined)
          .reverse();
      }
      return limit(found);
    }
    default:
      throw new Error(
        `history_request: hist_access_type ${JSON.stringify(query.hist_access_type)} is not one of "tail", "range", "search"`
      );
  }
}
