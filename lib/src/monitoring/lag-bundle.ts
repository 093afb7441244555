import type { MimeBundle } from '../kernel/api.js';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '../protocol/index.js';

/** The bundle for one view: our widget, and a line of text for frontends without it. */
export function lagBundle(view: KafkaLagView): MimeBundle {
  const perPartition = view.partitions.map(p => `p${p.partition}: ${p.lag}`).join(', ');
  const state = view.stopped ? ' (stopped)' : '';
  const error = view.error !== undefined ? ` — ${view.error}` : '';
  return {
    [KAFKA_LAG_MIME_TYPE]: view,
    'text/plain': `Kafka lag of group "${view.groupId}" on topic "${view.topic}": total ${view.totalLag}${
      perPartition ? ` (${perPartition})` : ''
    }${state}${error}`
  };
}
