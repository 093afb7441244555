import type { MimeBundle } from '../../kernel/api.js';
import { MINIAPP_RUN_MIME_TYPE, type MiniAppRunView } from '../../protocol/miniapps.js';

/** The bundle for one view: the live widget, and a line of text for frontends without it. */
export function runBundle(view: MiniAppRunView): MimeBundle {
  const { totals } = view;
  const counts =
    view.role === 'mass'
      ? `produced ${totals.produced}`
      : `processed ${totals.processed} of ${totals.produced}, lost ${totals.lost}, duplicated ${totals.duplicated}`;
  const latency =
    view.latency === null
      ? ''
      : `, latency p50 ${view.latency.p50Ms.toFixed(1)} ms p99 ${view.latency.p99Ms.toFixed(1)} ms`;
  const reason = view.reason !== undefined ? ` (${view.reason})` : '';
  return {
    [MINIAPP_RUN_MIME_TYPE]: view,
    'text/plain': `${view.role.toUpperCase()} ${view.kind} run ${view.runId} on topic ${view.topic}: ${view.state}${reason}; ${counts}${latency}`
  };
}
