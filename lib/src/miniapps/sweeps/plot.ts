import type { SweepRow } from './sweep.js';
import { varyingKeys } from './table.js';

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 64, right: 160, top: 24, bottom: 48 };
const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

function escape(text: string): string {
  return text.replace(/[&<>"]/g, char => `&#${char.charCodeAt(0)};`);
}

/**
 * Processed messages per second against the first dimension that varies, one line per
 * combination of the others (e.g. throughput over nodes, one line per algorithm), as SVG.
 */
export function sweepSvg(rows: readonly SweepRow[]): string {
  const [x, ...others] = varyingKeys(rows);
  const xValues = x === undefined ? ['all'] : [...new Set(rows.map(row => String(row.point[x])))];
  const series = new Map<string, { xi: number; y: number }[]>();
  for (const row of rows) {
    const name = others.map(key => `${key} ${row.point[key]}`).join(', ') || 'processed msg/s';
    const xi = x === undefined ? 0 : xValues.indexOf(String(row.point[x]));
    series.set(name, [...(series.get(name) ?? []), { xi, y: row.processedPerSecond }]);
  }
  const maxY = Math.max(1, ...rows.map(row => row.processedPerSecond)) * 1.1;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (xi: number) =>
    MARGIN.left + (xValues.length === 1 ? plotW / 2 : (xi / (xValues.length - 1)) * plotW);
  const py = (y: number) => MARGIN.top + plotH - (y / maxY) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="black"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">${escape(x ?? '')}</text>`,
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">processed msg/s</text>`
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (maxY * i) / 4;
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${py(y) + 4}" text-anchor="end">${y.toFixed(y < 10 ? 1 : 0)}</text>`,
      `<line x1="${MARGIN.left}" y1="${py(y)}" x2="${MARGIN.left + plotW}" y2="${py(y)}" stroke="#ddd"/>`
    );
  }
  xValues.forEach((value, xi) =>
    parts.push(
      `<text x="${px(xi)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${escape(value)}</text>`
    )
  );
  [...series.entries()].forEach(([name, points], index) => {
    const colour = COLOURS[index % COLOURS.length]!;
    const sorted = [...points].sort((a, b) => a.xi - b.xi);
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map(p => `${px(p.xi)},${py(p.y)}`).join(' ')}"/>`,
      ...sorted.map(p => `<circle cx="${px(p.xi)}" cy="${py(p.y)}" r="3.5" fill="${colour}"/>`),
      `<text x="${WIDTH - MARGIN.right + 12}" y="${MARGIN.top + 14 + index * 16}" fill="${colour}">${escape(name)}</text>`
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
