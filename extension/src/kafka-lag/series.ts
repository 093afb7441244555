import type { LagSample } from '@pilot-streaming/lib/protocol';

/** uPlot's data layout: x values (seconds since the epoch), then one array per series. */
export type LagSeries = [xs: number[], totalLag: number[]];

/**
 * The total-lag time series for the chart: seconds on x (uPlot's time scale), samples in time
 * order with repeated timestamps collapsed to the latest value (x must strictly increase).
 */
export function buildLagSeries(history: readonly LagSample[]): LagSeries {
  const sorted = [...history].sort((a, b) => a.t - b.t);
  const xs: number[] = [];
  const ys: number[] = [];
  for (const sample of sorted) {
    const x = sample.t / 1000;
    if (xs.length > 0 && xs[xs.length - 1] === x) {
      ys[ys.length - 1] = sample.totalLag;
    } else {
      xs.push(x);
      ys.push(sample.totalLag);
    }
  }
  return [xs, ys];
}

/** Range of the y axis: from 0 to a little above the largest lag, never empty. */
export function lagRange(series: LagSeries): [number, number] {
  const max = Math.max(0, ...series[1]);
  return [0, max === 0 ? 1 : Math.ceil(max * 1.1)];
}
