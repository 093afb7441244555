import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { KafkaLagView } from '@pilot-streaming/lib/protocol';

/** What a notice is about (also the notice's data-kind, for styles and UI tests). */
export type LagNoticeKind = 'topic-missing' | 'group-missing' | 'group-no-offsets' | 'pilot-ended';

export interface LagNotice {
  kind: LagNoticeKind;
  text: string;
}

// Literal strings in every trans.__ call, so the translation extractor finds them.

/**
 * What the numbers alone do not say: that the topic does not exist (yet), that the group does
 * not exist or has committed nothing (so the lag counts every stored message), or that the
 * pilot ended. A view from an older kernel, without these fields, has none.
 */
export function lagNotices(trans: IRenderMime.TranslationBundle, view: KafkaLagView): LagNotice[] {
  const notices: LagNotice[] = [];
  if (view.topicExists === false) {
    notices.push({
      kind: 'topic-missing',
      text: view.stopped
        ? trans.__('Topic %1 does not exist.', view.topic)
        : trans.__(
            'Topic %1 does not exist (yet). Still watching: its lag appears once it is created.',
            view.topic
          )
    });
  } else if (view.group?.state === 'Dead') {
    notices.push({
      kind: 'group-missing',
      text: trans.__(
        'Group %1 does not exist: it has no committed offsets, so the lag counts every stored message.',
        view.groupId
      )
    });
  } else if (view.group !== undefined && !view.group.hasCommittedOffsets) {
    notices.push({
      kind: 'group-no-offsets',
      text: trans.__(
        'Group %1 has no committed offsets on this topic, so the lag counts every stored message.',
        view.groupId
      )
    });
  }
  if (view.stopped && view.pilotEnded !== undefined) {
    notices.push({
      kind: 'pilot-ended',
      text: trans.__('Pilot %1 ended (%2): monitoring stopped.', view.pilotId, view.pilotEnded)
    });
  }
  return notices;
}

/** The headline: the total lag, or why there is none. */
export function totalLagText(trans: IRenderMime.TranslationBundle, view: KafkaLagView): string {
  if (view.topicExists === false) return trans.__('Total lag: no such topic');
  // Until the first sample there is no lag to show, not a lag of 0.
  if (view.history.length === 0) return trans.__('Total lag: waiting for the first sample…');
  return trans.__('Total lag: %1', view.totalLag);
}
