import type { MimeBundle } from '../kernel/api.js';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '../protocol/index.js';

/** The numbers, or why there are none. */
function lagText(view: KafkaLagView): string {
  if (view.topicExists === false) {
    return `topic "${view.topic}" does not exist (watching for it)`;
  }
  // Before the first sample there is no lag to report, not a lag of 0.
  if (view.history.length === 0) return 'no sample yet';
  const perPartition = view.partitions.map(p => `p${p.partition}: ${p.lag}`).join(', ');
  return `total ${view.totalLag}${perPartition ? ` (${perPartition})` : ''}`;
}

/** What the broker said of the group, when it explains the numbers. */
function groupText(view: KafkaLagView): string {
  if (view.group === undefined || view.group.hasCommittedOffsets) return '';
  return view.group.state === 'Dead'
    ? ` — group "${view.groupId}" does not exist (no committed offsets)`
    : ` — group "${view.groupId}" has no committed offsets on this topic`;
}

function stoppedText(view: KafkaLagView): string {
  if (!view.stopped) return '';
  return view.pilotEnded !== undefined
    ? ` (stopped: pilot ${view.pilotId} is ${view.pilotEnded})`
    : ' (stopped)';
}

/** The bundle for one view: our widget, and a line of text for frontends without it. */
export function lagBundle(view: KafkaLagView): MimeBundle {
  const error = view.error !== undefined ? ` — ${view.error}` : '';
  return {
    [KAFKA_LAG_MIME_TYPE]: view,
    'text/plain': `Kafka lag of group "${view.groupId}" on topic "${view.topic}": ${lagText(view)}${groupText(view)}${stoppedText(view)}${error}`
  };
}
