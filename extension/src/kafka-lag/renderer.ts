import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '@pilot-streaming/lib/protocol';
import { element } from '../widgets/dom';
import { LagChart } from './lag-chart';
import { buildLagSeries } from './series';

/**
 * The live Kafka consumer-lag widget. Display updates re-render the same widget, so the DOM
 * and the chart are built once and then only refreshed.
 */
export class KafkaLagRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly total = element('div', 'ps-KafkaLag-total');
  private readonly meta = element('div', 'ps-KafkaLag-meta');
  private readonly error = element('div', 'ps-KafkaLag-error');
  private readonly chartNode = element('div', 'ps-KafkaLag-chart');
  private readonly rows = element('tbody', '');
  private readonly chart: LagChart;

  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('ps-KafkaLag');
    const table = element('table', 'ps-KafkaLag-table');
    const head = element('thead', '');
    const headRow = element('tr', '');
    for (const title of ['Partition', 'Log end', 'Committed', 'Lag']) {
      headRow.appendChild(element('th', '', title));
    }
    head.appendChild(headRow);
    table.append(head, this.rows);
    this.node.append(this.total, this.meta, this.error, this.chartNode, table);
    this.chart = new LagChart(this.chartNode);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const view = model.data[this.options.mimeType] as unknown as KafkaLagView;
    // Until the first sample there is no lag to show, not a lag of 0.
    const sampled = view.history.length > 0;
    if (sampled) {
      this.node.dataset.totalLag = String(view.totalLag);
    } else {
      delete this.node.dataset.totalLag;
    }
    this.node.dataset.stopped = String(view.stopped === true);
    this.total.textContent = sampled
      ? `Total lag: ${view.totalLag}`
      : 'Total lag: waiting for the first sample…';
    const updated = new Date(view.updatedAt).toLocaleTimeString();
    this.meta.textContent = `topic ${view.topic} · group ${view.groupId} · pilot ${view.pilotId} · ${
      view.stopped ? 'stopped' : 'live'
    } · updated ${updated}`;
    this.error.textContent = view.error ?? '';
    this.error.hidden = view.error === undefined;

    this.rows.replaceChildren(
      ...view.partitions.map(partition => {
        const row = element('tr', 'ps-KafkaLag-partition');
        row.dataset.partition = String(partition.partition);
        row.dataset.lag = String(partition.lag);
        row.append(
          element('td', '', String(partition.partition)),
          element('td', '', String(partition.logEndOffset)),
          element(
            'td',
            '',
            partition.committedOffset < 0 ? '—' : String(partition.committedOffset)
          ),
          element('td', 'ps-KafkaLag-lag', String(partition.lag))
        );
        return row;
      })
    );
    this.chart.update(buildLagSeries(view.history));
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.chart.dispose();
    super.dispose();
  }
}

export const kafkaLagRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [KAFKA_LAG_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new KafkaLagRenderer(options)
};
