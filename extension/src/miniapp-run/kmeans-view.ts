import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { MiniAppKMeansView } from '@pilot-streaming/lib/protocol';
import { element, svgElement } from '../widgets/dom';
import { formatCoordinate, formatCount, formatRate, formatWeight } from './format';
import { projectCenters, type ScatterBox } from './layout';

const BOX: ScatterBox = { width: 280, height: 200, padding: 18, minRadius: 3, maxRadius: 14 };
/** Coordinates shown per centre in the table; the scatter already shows the first two. */
const TABLE_DIMENSIONS = 4;
/** Centres listed in the table; a large k would push the rest of the widget out of sight. */
const TABLE_ROWS = 20;

/** The streaming KMeans model: a scatter of the centres, a summary line and a small table. */
export class KMeansView {
  readonly node = element('div', 'ps-MiniAppRun-kmeans');
  private readonly summary = element('div', 'ps-MiniAppRun-kmeansSummary');
  private readonly plot = svgElement('svg', {
    class: 'ps-MiniAppRun-kmeansPlot',
    viewBox: `0 0 ${BOX.width} ${BOX.height}`,
    width: BOX.width,
    height: BOX.height,
    role: 'img'
  });
  private readonly markers = svgElement('g', {});
  private readonly rows = element('tbody', '');

  constructor(private readonly trans: IRenderMime.TranslationBundle) {
    this.plot.setAttribute('aria-label', trans.__('KMeans centres, first two coordinates'));
    const frame = svgElement('rect', {
      class: 'ps-MiniAppRun-kmeansFrame',
      x: 0.5,
      y: 0.5,
      width: BOX.width - 1,
      height: BOX.height - 1
    });
    this.plot.append(frame, this.markers);
    const table = element('table', 'ps-MiniAppRun-kmeansTable');
    const head = element('thead', '');
    const headRow = element('tr', '');
    for (const title of [trans.__('Centre'), trans.__('Weight'), trans.__('Coordinates')]) {
      headRow.appendChild(element('th', '', title));
    }
    head.appendChild(headRow);
    table.append(head, this.rows);
    const body = element('div', 'ps-MiniAppRun-kmeansBody');
    body.append(this.plot, table);
    this.node.append(this.summary, body);
    this.node.hidden = true;
  }

  update(kmeans: MiniAppKMeansView | undefined): void {
    this.node.hidden = kmeans === undefined;
    if (kmeans === undefined) return;
    const trans = this.trans;
    const { centers, weights } = kmeans;
    this.node.dataset.centers = String(centers.length);
    this.summary.textContent = trans.__(
      '%1 centres · %2 points/s · %3 points trained',
      centers.length,
      formatRate(kmeans.pointsPerSecond),
      formatCount(kmeans.points)
    );
    this.markers.replaceChildren(
      ...projectCenters(centers, weights, BOX).map(marker => {
        const circle = svgElement('circle', {
          class: 'ps-MiniAppRun-center',
          cx: marker.x.toFixed(1),
          cy: marker.y.toFixed(1),
          r: marker.r.toFixed(1),
          'data-center-index': marker.index
        });
        const title = svgElement('title', {});
        const weight = formatWeight(weights[marker.index] ?? 0);
        title.textContent = trans.__('Centre %1 · weight %2', marker.index, weight);
        circle.appendChild(title);
        return circle;
      })
    );
    const rows = centers.slice(0, TABLE_ROWS).map((center, index) => {
      const row = element('tr', 'ps-MiniAppRun-kmeansCenter');
      row.dataset.centerIndex = String(index);
      const shown = center.slice(0, TABLE_DIMENSIONS).map(formatCoordinate).join(', ');
      const more = center.length > TABLE_DIMENSIONS ? ', …' : '';
      row.append(
        element('td', 'ps-MiniAppRun-number', String(index)),
        element('td', 'ps-MiniAppRun-number', formatWeight(weights[index] ?? 0)),
        element('td', 'ps-MiniAppRun-coordinates', `(${shown}${more})`)
      );
      return row;
    });
    if (centers.length > TABLE_ROWS) {
      const row = element('tr', 'ps-MiniAppRun-kmeansMore');
      const cell = element('td', '', trans.__('… and %1 more', centers.length - TABLE_ROWS));
      cell.colSpan = 3;
      row.appendChild(cell);
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
  }
}
