import type { MimeBundle } from '../kernel/api.js';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '../protocol/index.js';

/** The bundle for one view: our widget, and a line of text for frontends without it. */
export function lagBundle(view: KafkaLagView): MimeBundle {
  const perPartition = view.partitions.map(p => `p${p.partition}: ${p.lag}`).join(', ');
  // Before the first sample there is no lag to report, not a lag of 0.
  const total =
    view.history.length === 0
      ? 'no sample yet'
      : `total ${view.totalLag}${perPartition ? ` (${perPartition})` : ''}`;
  const state = view.stopped ? ' (stopped)' : '';
  const error = view.error !== undefined ? ` — ${view.error}` : '';
  return {
    [KAFKA_LAG_MIME_TYPE]: view,
    'text/plain': `Kafka lag of group "${view.groupId}" on topic "${view.topic}": ${total}${state}${error}`
  };
}
