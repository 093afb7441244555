import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { lagRange, type LagSeries } from './series';

const HEIGHT = 160;
/** Tick spacings on the time axis, in seconds. */
const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];

function formatTick(seconds: number): string {
  return new Date(seconds * 1000).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit'
  });
}

/** Colours from the JupyterLab theme, so the canvas follows light and dark themes. */
function themeColors(node: HTMLElement): { line: string; axis: string; grid: string } {
  const style = getComputedStyle(node);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    line: read('--jp-brand-color1', '#1976d2'),
    axis: read('--jp-ui-font-color2', '#616161'),
    grid: read('--jp-border-color2', '#e0e0e0')
  };
}

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
    const colors = themeColors(this.node);
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
