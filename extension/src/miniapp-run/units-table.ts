import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { MiniAppUnitView } from '@pilot-streaming/lib/protocol';
import { element } from '../widgets/dom';
import { formatCount, formatRate } from './format';
import { stateLabel } from './labels';
import { progressFractions } from './layout';

interface UnitRow {
  row: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  fill: HTMLDivElement;
}

/**
 * Producers and consumers, one row each. Rows are kept by unit id across updates, so the
 * consumers' progress bars move (CSS transition) instead of being redrawn.
 */
export class UnitsTable {
  readonly node = element('table', 'ps-MiniAppRun-units');
  private readonly body = element('tbody', '');
  private readonly producersHeading: HTMLTableRowElement;
  private readonly consumersHeading: HTMLTableRowElement;
  private readonly rows = new Map<string, UnitRow>();

  constructor(private readonly trans: IRenderMime.TranslationBundle) {
    const head = element('thead', '');
    const headRow = element('tr', '');
    const titles = [
      trans.__('Unit'),
      trans.__('Node'),
      trans.__('Messages'),
      trans.__('msg/s'),
      trans.__('Errors'),
      trans.__('State'),
      trans.__('Progress')
    ];
    for (const title of titles) headRow.appendChild(element('th', '', title));
    head.appendChild(headRow);
    this.producersHeading = this.heading();
    this.consumersHeading = this.heading();
    this.node.append(head, this.body);
  }

  update(producers: readonly MiniAppUnitView[], consumers: readonly MiniAppUnitView[]): void {
    const trans = this.trans;
    const seen = new Set<string>();
    const ordered: HTMLTableRowElement[] = [];
    const add = (unit: MiniAppUnitView, role: 'producer' | 'consumer', fraction?: number) => {
      // An id is unique within its role; key by both in case a producer and a consumer share one.
      const key = `${role}:${unit.id}`;
      seen.add(key);
      const parts = this.rows.get(key) ?? this.createRow(role);
      this.rows.set(key, parts);
      this.fill(parts, unit, fraction);
      ordered.push(parts.row);
    };
    this.producersHeading.cells[0].textContent = trans.__('Producers (%1)', producers.length);
    this.consumersHeading.cells[0].textContent = trans.__('Consumers (%1)', consumers.length);
    if (producers.length > 0) ordered.push(this.producersHeading);
    for (const unit of producers) add(unit, 'producer');
    if (consumers.length > 0) ordered.push(this.consumersHeading);
    const fractions = progressFractions(consumers.map(unit => unit.messages));
    consumers.forEach((unit, i) => add(unit, 'consumer', fractions[i]));
    for (const key of [...this.rows.keys()]) {
      if (!seen.has(key)) this.rows.delete(key);
    }
    this.body.replaceChildren(...ordered);
    this.node.hidden = ordered.length === 0;
  }

  private heading(): HTMLTableRowElement {
    const row = element('tr', 'ps-MiniAppRun-unitGroup');
    const cell = element('th', '');
    cell.colSpan = 7;
    row.appendChild(cell);
    return row;
  }

  private createRow(role: 'producer' | 'consumer'): UnitRow {
    const row = element('tr', 'ps-MiniAppRun-unit');
    row.dataset.role = role;
    const cells = [
      element('td', 'ps-MiniAppRun-unitId'),
      element('td', 'ps-MiniAppRun-unitNode'),
      element('td', 'ps-MiniAppRun-number'),
      element('td', 'ps-MiniAppRun-number'),
      element('td', 'ps-MiniAppRun-number'),
      element('td', 'ps-MiniAppRun-unitState'),
      element('td', 'ps-MiniAppRun-unitProgress')
    ];
    const bar = element('div', 'ps-MiniAppRun-bar');
    const fill = element('div', 'ps-MiniAppRun-barFill');
    bar.appendChild(fill);
    // Producers have no bar: they are not measured against each other.
    if (role === 'consumer') cells[6].appendChild(bar);
    row.append(...cells);
    return { row, cells, fill };
  }

  private fill(parts: UnitRow, unit: MiniAppUnitView, fraction?: number): void {
    const { row, cells } = parts;
    row.dataset.unitId = unit.id;
    row.dataset.state = unit.state;
    row.dataset.messages = String(unit.messages);
    cells[0].textContent = unit.id;
    cells[1].textContent = unit.node ?? '—';
    cells[2].textContent = formatCount(unit.messages);
    cells[3].textContent = formatRate(unit.messagesPerSecond);
    cells[4].textContent = formatCount(unit.errors);
    cells[4].classList.toggle('ps-MiniAppRun-hasErrors', unit.errors > 0);
    cells[5].textContent = stateLabel(this.trans, unit.state);
    if (fraction !== undefined) {
      const percent = Math.round(fraction * 100);
      parts.fill.style.width = `${percent}%`;
      cells[6].title = this.trans.__('%1% of the busiest consumer', percent);
    }
  }
}
