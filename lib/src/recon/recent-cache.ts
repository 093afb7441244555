/**
 * A few values kept by key, the least recently used dropped first: per-geometry tables are
 * big, and a stream of slices needs only the one geometry it is on. At most `limit` values,
 * and older ones only while all together weigh at most `budget` (the newest is always kept).
 */
export class RecentCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly limit: number,
    private readonly budget = Infinity,
    private readonly weigh: (value: V) => number = () => 0
  ) {}

  /** The value for `key`, made (and kept) when absent. */
  get(key: string, make: () => V): V {
    const value = this.entries.has(key) ? (this.entries.get(key) as V) : make();
    this.set(key, value);
    return value;
  }

  /** The value for `key` if kept (and marks it as recently used). */
  peek(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) this.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    let weight = 0;
    for (const kept of this.entries.values()) weight += this.weigh(kept);
    for (const [oldest, kept] of this.entries) {
      if (oldest === key || (this.entries.size <= this.limit && weight <= this.budget)) break;
      this.entries.delete(oldest);
      weight -= this.weigh(kept);
    }
  }
}

/** A cache key for a geometry, the angles by value. */
export function geometryKey(
  angles: ArrayLike<number>,
  pixels: number,
  size: number,
  center: number
): string {
  return `${pixels}/${size}/${center}/${Array.prototype.join.call(angles, ',')}`;
}
