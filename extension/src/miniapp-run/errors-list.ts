import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { MiniAppRunView } from '@pilot-streaming/lib/protocol';
import { element } from '../widgets/dom';
import { formatTime } from './format';

/**
 * The run's last errors, newest first (the view lists them oldest first). Messages go in a
 * <pre>: a user function's error carries its multi-line stack.
 */
export class ErrorsList {
  readonly node = element('section', 'ps-MiniAppRun-errors');
  private readonly title = element('div', 'ps-MiniAppRun-sectionTitle');
  private readonly list = element('ol', 'ps-MiniAppRun-errorList');
  private key = '';

  constructor(private readonly trans: IRenderMime.TranslationBundle) {
    this.node.append(this.title, this.list);
    this.node.hidden = true;
  }

  update(errors: MiniAppRunView['errors']): void {
    this.node.hidden = errors.length === 0;
    // Unchanged errors keep their nodes, so a stack being selected for copying stays selected.
    const key = JSON.stringify(errors);
    if (key === this.key) return;
    this.key = key;
    this.title.textContent = this.trans.__('Last errors (%1)', errors.length);
    this.list.replaceChildren(
      ...[...errors].reverse().map(error => {
        const item = element('li', 'ps-MiniAppRun-error');
        item.dataset.source = error.source;
        const where = `${error.source} · ${formatTime(error.at)}`;
        item.append(
          element('div', 'ps-MiniAppRun-errorSource', where),
          element('pre', 'ps-MiniAppRun-errorMessage', error.message)
        );
        return item;
      })
    );
  }
}
