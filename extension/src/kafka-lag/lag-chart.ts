import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTick, themeColors, TIME_STEPS_S } from '../widgets/chart-theme';
import { lagRange, type LagSeries } from './series';

const HEIGHT = 160;

const COLORS = {
  line: ['--jp-brand-color1', '#1976d2'],
  axis: ['--jp-ui-font-color2', '#616161'],
  grid: ['--jp-border-color2', '#e0e0e0']
} as const;

/**
 * The total-lag time series: a uPlot chart kept across updates (setData), resized with its
 * container, and rebuilt only when the theme's colours change.
 */
export class LagChart {
  private plot: uPlot | undefined;
  private colorsKey = '';
  private series: LagSeries = [[], []];
  private readonly resizeObserver: ResizeObserver;

  constructor(private readonly node: HTMLElement) {
    this.resizeObserver = new ResizeObserver(() => this.fit());
    this.resizeObserver.observe(node);
  }

  update(series: LagSeries): void {
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
    this.plot?.destroy();
    this.plot = undefined;
  }

  private width(): number {
    return Math.max(200, this.node.clientWidth);
  }

  private fit(): void {
    if (this.plot && Math.abs(this.plot.width - this.width()) > 1) {
      this.plot.setSize({ width: this.width(), height: HEIGHT });
    }
  }

  private create(colors: { line: string; axis: string; grid: string }): uPlot {
    const axis = {
      stroke: colors.axis,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1 }
    };
    return new uPlot(
      {
        width: this.width(),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true },
          y: { range: (self: uPlot) => lagRange([[], self.data[1] as number[]]) }
        },
        series: [
          {},
          { label: 'total lag', stroke: colors.line, width: 2, points: { show: false } }
        ],
        axes: [
          {
            ...axis,
            // Samples come every second or so: whole seconds, as wall-clock times.
            space: 70,
            incrs: TIME_STEPS_S,
            values: (_self: uPlot, ticks: number[]) => ticks.map(formatTick)
          },
          { ...axis, size: 56 }
        ]
      },
      this.series,
      this.node
    );
  }
}
