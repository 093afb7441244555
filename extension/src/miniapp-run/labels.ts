import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { MiniAppRole, MiniAppRunState } from '@pilot-streaming/lib/protocol';

// Literal strings in every trans.__ call, so the translation extractor finds them.

/** Label of a run's or a unit's state (a unit's states are a subset of the run's). */
export function stateLabel(trans: IRenderMime.TranslationBundle, state: MiniAppRunState): string {
  switch (state) {
    case 'starting':
      return trans.__('starting');
    case 'running':
      return trans.__('running');
    case 'stopping':
      return trans.__('stopping');
    case 'ended':
      return trans.__('ended');
    case 'failed':
      return trans.__('failed');
  }
  // A newer kernel may send a state this widget does not know yet.
  return String(state);
}

export function roleLabel(trans: IRenderMime.TranslationBundle, role: MiniAppRole): string {
  return role === 'mass' ? trans.__('MASS') : role === 'masa' ? trans.__('MASA') : String(role);
}
