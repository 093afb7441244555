// Number formatting for the widget. The locale is a parameter so tests do not depend on the
// machine's; the widget passes undefined (the browser's).

/** A message or byte count, with the locale's grouping. */
export function formatCount(value: number, locale?: string): string {
  return Math.round(value).toLocaleString(locale);
}

/** A byte count in decimal units (kB = 1000 B), as network throughput is usually given. */
export function formatBytes(bytes: number, locale?: string): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : 1;
  const shown = value.toLocaleString(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits
  });
  return `${shown} ${units[unit]}`;
}

/** A weight, which may be fractional (decayed) or a large count. */
export function formatWeight(value: number, locale?: string): string {
  const digits = Math.abs(value) < 10 ? 2 : Math.abs(value) < 1000 ? 1 : 0;
  return value.toLocaleString(locale, { maximumFractionDigits: digits });
}

/** A rate: one decimal while small (a slow source), whole numbers once it is not. */
export function formatRate(perSecond: number, locale?: string): string {
  const digits = perSecond < 10 ? 1 : 0;
  return perSecond.toLocaleString(locale, {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits
  });
}

/** A latency: sub-millisecond values keep two decimals, long ones switch to seconds. */
export function formatMs(ms: number, locale?: string): string {
  const fixed = (value: number, digits: number) =>
    value.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (ms >= 1000) return `${fixed(ms / 1000, 2)} s`;
  if (ms >= 100) return `${fixed(ms, 0)} ms`;
  if (ms >= 10) return `${fixed(ms, 1)} ms`;
  return `${fixed(ms, 2)} ms`;
}

/** A coordinate of a KMeans centre: three significant digits are enough to tell centres apart. */
export function formatCoordinate(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number(value.toPrecision(3)).toString();
}

/** Wall-clock time of an ISO timestamp; the timestamp itself when it does not parse. */
export function formatTime(iso: string, locale?: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString(locale);
}
