import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { MINIAPP_RUN_MIME_TYPE, type MiniAppRunView } from '@pilot-streaming/lib/protocol';
import { element } from '../widgets/dom';
import { ErrorsList } from './errors-list';
import { formatBytes, formatCount, formatMs, formatTime } from './format';
import { KMeansView } from './kmeans-view';
import { roleLabel, stateLabel } from './labels';
import { buildRunSeries } from './series';
import { SliceImage } from './slice-image';
import { ThroughputChart } from './throughput-chart';
import { UnitsTable } from './units-table';

type TotalKey = 'produced' | 'processed' | 'lost' | 'duplicated' | 'errors';

/** One headline number: value, label, and bytes under the two that have them. */
interface Stat {
  node: HTMLDivElement;
  value: HTMLSpanElement;
  detail: HTMLSpanElement;
}

/**
 * The live Mini-App run widget. The kernel re-sends the whole view about once a second as a
 * display update, which re-renders this same widget: the DOM and the chart are built once and
 * then only refreshed.
 */
export class MiniAppRunRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly trans: IRenderMime.TranslationBundle;
  private readonly role = element('span', 'ps-MiniAppRun-role');
  private readonly kind = element('span', 'ps-MiniAppRun-kind');
  private readonly state = element('span', 'ps-MiniAppRun-state');
  private readonly meta = element('div', 'ps-MiniAppRun-meta');
  private readonly reason = element('div', 'ps-MiniAppRun-reason');
  private readonly latency = element('div', 'ps-MiniAppRun-latency');
  private readonly stats = new Map<TotalKey, Stat>();
  private readonly chartNode = element('div', 'ps-MiniAppRun-chart');
  private readonly chart: ThroughputChart;
  private readonly units: UnitsTable;
  private readonly slice: SliceImage;
  private readonly kmeans: KMeansView;
  private readonly errors: ErrorsList;

  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('ps-MiniAppRun');
    const trans = (options.translator ?? nullTranslator).load('jupyterlab');
    this.trans = trans;

    const title = element('div', 'ps-MiniAppRun-title');
    title.append(this.role, this.kind, this.state);
    const totals = element('div', 'ps-MiniAppRun-totals');
    const labels: [TotalKey, string][] = [
      ['produced', trans.__('produced')],
      ['processed', trans.__('processed')],
      ['lost', trans.__('lost')],
      ['duplicated', trans.__('duplicated')],
      ['errors', trans.__('errors')]
    ];
    for (const [key, label] of labels) {
      const stat = this.createStat(key, label);
      this.stats.set(key, stat);
      totals.appendChild(stat.node);
    }
    this.units = new UnitsTable(trans);
    this.slice = new SliceImage(trans);
    this.kmeans = new KMeansView(trans);
    this.errors = new ErrorsList(trans);
    const results = element('div', 'ps-MiniAppRun-results');
    results.append(this.slice.node, this.kmeans.node);
    this.node.append(
      title,
      this.meta,
      this.reason,
      totals,
      this.latency,
      this.chartNode,
      this.units.node,
      results,
      this.errors.node
    );
    this.chart = new ThroughputChart(this.chartNode, trans);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const view = model.data[this.options.mimeType] as unknown as MiniAppRunView;
    const trans = this.trans;
    const { totals } = view;
    const data = this.node.dataset;
    data.runId = view.runId;
    data.state = view.state;
    data.role = view.role;
    data.kind = view.kind;
    data.processed = String(totals.processed);
    data.produced = String(totals.produced);
    data.lost = String(totals.lost);
    data.duplicated = String(totals.duplicated);
    data.errors = String(totals.errors);

    this.role.textContent = roleLabel(trans, view.role);
    this.kind.textContent = view.kind;
    this.state.textContent = stateLabel(trans, view.state);
    this.state.dataset.state = view.state;
    this.meta.textContent = trans.__(
      'topic %1 · pilot %2 · run %3 · started %4 · updated %5',
      view.topic,
      view.pilotId,
      view.runId,
      formatTime(view.startedAt),
      formatTime(view.updatedAt)
    );
    this.reason.textContent = view.reason ?? '';
    this.reason.hidden = !view.reason;

    for (const [key, stat] of this.stats) {
      stat.value.textContent = formatCount(totals[key]);
      // Losses, duplicates and errors deserve attention as soon as there is one.
      const bad = key !== 'produced' && key !== 'processed' && totals[key] > 0;
      stat.node.classList.toggle('ps-MiniAppRun-statBad', bad);
    }
    this.stats.get('produced')!.detail.textContent = formatBytes(totals.producedBytes);
    this.stats.get('processed')!.detail.textContent = formatBytes(totals.processedBytes);

    this.latency.textContent = view.latency
      ? trans.__(
          'latency p50 %1 · p95 %2 · p99 %3',
          formatMs(view.latency.p50Ms),
          formatMs(view.latency.p95Ms),
          formatMs(view.latency.p99Ms)
        )
      : trans.__('no message processed yet');

    this.chart.update(buildRunSeries(view.history));
    this.units.update(view.producers, view.consumers);
    this.slice.update(view.slice);
    this.kmeans.update(view.kmeans);
    this.errors.update(view.errors);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.chart.dispose();
    super.dispose();
  }

  private createStat(key: TotalKey, label: string): Stat {
    const node = element('div', 'ps-MiniAppRun-stat');
    node.dataset.stat = key;
    const value = element('span', 'ps-MiniAppRun-statValue');
    const detail = element('span', 'ps-MiniAppRun-statDetail');
    node.append(value, element('span', 'ps-MiniAppRun-statLabel', label), detail);
    return { node, value, detail };
  }
}

export const miniAppRunRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MINIAPP_RUN_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new MiniAppRunRenderer(options)
};
