import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '@pilot-streaming/lib/protocol';
import { element } from '../widgets/dom';
import { LagChart } from './lag-chart';
import { lagNotices, totalLagText } from './notices';
import { buildLagSeries } from './series';

/**
 * The live Kafka consumer-lag widget. Display updates re-render the same widget, so the DOM
 * and the chart are built once and then only refreshed.
 */
export class KafkaLagRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly trans: IRenderMime.TranslationBundle;
  private readonly total = element('div', 'ps-KafkaLag-total');
  private readonly meta = element('div', 'ps-KafkaLag-meta');
  private readonly notices = element('div', 'ps-KafkaLag-notices');
  private readonly error = element('div', 'ps-KafkaLag-error');
  private readonly chartNode = element('div', 'ps-KafkaLag-chart');
  private readonly rows = element('tbody', '');
  private readonly chart: LagChart;

  constructor(private readonly options: IRenderMime.IRendererOptions) {
    super();
    this.addClass('ps-KafkaLag');
    const trans = (options.translator ?? nullTranslator).load('jupyterlab');
    this.trans = trans;
    const table = element('table', 'ps-KafkaLag-table');
    const head = element('thead', '');
    const headRow = element('tr', '');
    for (const title of [
      trans.__('Partition'),
      trans.__('Log end'),
      trans.__('Committed'),
      trans.__('Lag')
    ]) {
      headRow.appendChild(element('th', '', title));
    }
    head.appendChild(headRow);
    table.append(head, this.rows);
    this.node.append(this.total, this.meta, this.notices, this.error, this.chartNode, table);
    this.chart = new LagChart(this.chartNode);
  }

  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const view = model.data[this.options.mimeType] as unknown as KafkaLagView;
    const trans = this.trans;
    const data = this.node.dataset;
    // Until the first sample (and while there is no topic) there is no lag, not a lag of 0.
    if (view.history.length > 0 && view.topicExists !== false) {
      data.totalLag = String(view.totalLag);
    } else {
      delete data.totalLag;
    }
    data.stopped = String(view.stopped === true);
    setOrDelete(data, 'topicExists', view.topicExists);
    setOrDelete(data, 'groupState', view.group?.state);
    setOrDelete(data, 'pilotEnded', view.pilotEnded);
    this.total.textContent = totalLagText(trans, view);
    this.meta.textContent = trans.__(
      'topic %1 · group %2 · pilot %3 · %4 · updated %5',
      view.topic,
      view.groupId,
      view.pilotId,
      view.stopped ? trans.__('stopped') : trans.__('live'),
      new Date(view.updatedAt).toLocaleTimeString()
    );
    const notices = lagNotices(trans, view);
    this.notices.replaceChildren(
      ...notices.map(notice => {
        const node = element('div', 'ps-KafkaLag-notice', notice.text);
        node.dataset.kind = notice.kind;
        return node;
      })
    );
    this.notices.hidden = notices.length === 0;
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

/** Mirrors an optional view field in a data attribute (for styles and UI tests). */
function setOrDelete(data: DOMStringMap, key: string, value: string | boolean | undefined): void {
  if (value === undefined) delete data[key];
  else data[key] = String(value);
}

export const kafkaLagRendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [KAFKA_LAG_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new KafkaLagRenderer(options)
};
