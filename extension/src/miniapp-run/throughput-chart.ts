import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTick, themeColors, TIME_STEPS_S } from '../widgets/chart-theme';
import { valueRange, type RunSeries } from './series';

const HEIGHT = 180;

interface ChartColors {
  produced: string;
  processed: string;
  p50: string;
  p99: string;
  axis: string;
  grid: string;
}

const COLORS = {
  produced: ['--jp-accent-color1', '#388e3c'],
  processed: ['--jp-brand-color1', '#1976d2'],
  p50: ['--jp-warn-color1', '#f57c00'],
  p99: ['--jp-error-color1', '#d32f2f'],
  axis: ['--jp-ui-font-color2', '#616161'],
  grid: ['--jp-border-color2', '#e0e0e0']
} as const;

/**
 * Produced and processed msg/s (left axis) with the latency p50 and p99 (right axis, dashed):
 * a uPlot chart kept across updates (setData), resized with its container, and rebuilt only
 * when the theme's colours change.
 */
export class ThroughputChart {
  private plot: uPlot | undefined;
  private colorsKey = '';
  private series: RunSeries = [[], [], [], [], []];
  private readonly resizeObserver: ResizeObserver;
  private readonly themeObserver: MutationObserver;

  constructor(
    private readonly node: HTMLElement,
    private readonly trans: IRenderMime.TranslationBundle
  ) {
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(node);
    // A finished run gets no more updates, so a theme switch must redraw the canvas by itself.
    // JupyterLab marks the body once the new theme's CSS is in; wait a frame to be safe.
    this.themeObserver = new MutationObserver(() =>
      requestAnimationFrame(() => {
        if (this.plot !== undefined) this.update(this.series);
      })
    );
    this.themeObserver.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name', 'data-jp-theme-light']
    });
  }

  update(series: RunSeries): void {
    this.series = series;
    const colors = themeColors(this.node, COLORS);
    const key = JSON.stringify(colors);
    if (this.plot === undefined || key !== this.colorsKey) {
      this.plot?.destroy();
      this.colorsKey = key;
      this.plot = this.create(colors);
      return;
    }
    this.plot.setData(series);
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    this.themeObserver.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(240, this.node.clientWidth);
  }

  private fit(): void {
    if (this.plot && Math.abs(this.plot.width - this.width()) > 1) {
      this.plot.setSize({ width: this.width(), height: HEIGHT });
    }
  }

  private create(colors: ChartColors): uPlot {
    const trans = this.trans;
    const axis = {
      stroke: colors.axis,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1 }
    };
    const line = (label: string, stroke: string, scale: string, dash?: number[]) => ({
      label,
      stroke,
      scale,
      width: 2,
      points: { show: false },
      ...(dash ? { dash } : {})
    });
    return new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        // Labels only: live values under the cursor would make the legend jump every second.
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true },
          rate: { range: (self: uPlot) => valueRange(self.data[1], self.data[2]) },
          ms: { range: (self: uPlot) => valueRange(self.data[3], self.data[4]) }
        },
        series: [
          {},
          line(trans.__('produced msg/s'), colors.produced, 'rate'),
          line(trans.__('processed msg/s'), colors.processed, 'rate'),
          line(trans.__('latency p50 (ms)'), colors.p50, 'ms', [4, 3]),
          line(trans.__('latency p99 (ms)'), colors.p99, 'ms', [4, 3])
        ],
        axes: [
          {
            ...axis,
            // One sample a second or so: whole seconds, as wall-clock times.
            space: 70,
            incrs: TIME_STEPS_S,
            values: (_self: uPlot, ticks: number[]) => ticks.map(formatTick)
          },
          { ...axis, scale: 'rate', size: 56, label: trans.__('msg/s') },
          { ...axis, scale: 'ms', side: 1, size: 56, label: trans.__('ms'), grid: { show: false } }
        ]
      },
      this.series,
      this.node
    );
  }
}
