/**
 * Expands a SLURM host list such as `SLURM_JOB_NODELIST` ("node[01-03,7],login1",
 * "rack[1-2]-n[1-2]") into host names, in order. Zero padding follows the range's lower bound,
 * as SLURM writes it. Malformed lists are an error naming the list.
 */
export function expandHostlist(list: string): string[] {
  const hosts: string[] = [];
  for (const item of splitTopLevel(list, list)) hosts.push(...expandItem(item, list));
  return hosts;
}

/** Splits on commas outside brackets. */
function splitTopLevel(text: string, list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (char === '[') depth++;
    else if (char === ']') depth--;
    if (depth < 0 || depth > 1) throw malformed(list, 'unbalanced or nested brackets');
    if (char === ',' && depth === 0) {
      items.push(text.slice(start, index));
      start = index + 1;
    }
  }
  if (depth !== 0) throw malformed(list, 'an unclosed bracket');
  items.push(text.slice(start));
  return items.map(item => item.trim()).filter(item => item !== '');
}

function expandItem(item: string, list: string): string[] {
  const open = item.indexOf('[');
  if (open < 0) return [item];
  const close = item.indexOf(']', open);
  const prefix = item.slice(0, open);
  const values = item
    .slice(open + 1, close)
    .split(',')
    .flatMap(range => expandRange(range.trim(), list));
  const rests = expandItem(item.slice(close + 1), list);
  return values.flatMap(value => rests.map(rest => `${prefix}${value}${rest}`));
}

function expandRange(range: string, list: string): string[] {
  const single = /^\d+$/.exec(range);
  if (single !== null) return [range];
  const match = /^(\d+)-(\d+)$/.exec(range);
  if (match === null) throw malformed(list, `range "${range}" is not N or N-M`);
  const [, low = '', high = ''] = match;
  const from = Number(low);
  const to = Number(high);
  if (to < from) throw malformed(list, `range "${range}" runs backwards`);
  if (to - from > 100_000) throw malformed(list, `range "${range}" is too large`);
  return Array.from({ length: to - from + 1 }, (_, offset) =>
    String(from + offset).padStart(low.length, '0')
  );
}

function malformed(list: string, why: string): Error {
  return new Error(
    `Host list ${JSON.stringify(list)} is malformed (${why}): expected names such as "node[01-03,7],login1"`
  );
}
