import type { MiniAppRunSample } from '@pilot-streaming/lib/protocol';

/**
 * uPlot's data layout: x values (seconds since the epoch), then one array per series. Latency
 * is null for a window in which nothing was processed, which uPlot draws as a gap.
 */
export type RunSeries = [
  xs: number[],
  produced: number[],
  processed: number[],
  p50: (number | null)[],
  p99: (number | null)[]
];

/**
 * The run's time series for the chart: seconds on x (uPlot's time scale), samples in time order
 * with repeated timestamps collapsed to the latest sample (x must strictly increase).
 */
export function buildRunSeries(history: readonly MiniAppRunSample[]): RunSeries {
  const sorted = [...history].sort((a, b) => a.t - b.t);
  const series: RunSeries = [[], [], [], [], []];
  const [xs, produced, processed, p50, p99] = series;
  for (const sample of sorted) {
    const x = sample.t / 1000;
    if (xs.length > 0 && xs[xs.length - 1] === x) {
      for (const column of series) column.pop();
    }
    xs.push(x);
    produced.push(sample.producedPerSecond);
    processed.push(sample.processedPerSecond);
    p50.push(sample.p50Ms);
    p99.push(sample.p99Ms);
  }
  return series;
}

/** Range of a y axis: from 0 to a little above the largest value (nulls skipped), never empty. */
export function valueRange(...columns: ArrayLike<number | null | undefined>[]): [number, number] {
  let max = 0;
  for (const column of columns) {
    for (let i = 0; i < column.length; i++) {
      const value = column[i];
      if (typeof value === 'number' && Number.isFinite(value) && value > max) max = value;
    }
  }
  return [0, max === 0 ? 1 : max * 1.1];
}
