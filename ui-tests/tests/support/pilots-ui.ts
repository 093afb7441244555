import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { expect } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

/** What the Galata tests share: the panel, notebooks on our kernel, the CLI for clean-up. */

export const PANEL_ID = 'pilot-streaming-panel';
export const SCREENSHOTS = path.join(__dirname, '..', '..', 'test-results', 'screenshots');
export const CLI = path.join(__dirname, '..', '..', '..', 'lib', 'dist', 'cli', 'main.js');

export async function openPilotsPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab(PANEL_ID);
  const panel = page.locator(`#${PANEL_ID}`);
  await expect(panel).toBeVisible();
  return panel;
}

export async function pilotIds(panel: Locator): Promise<string[]> {
  const ids = await panel
    .locator('.ps-PilotRow')
    .evaluateAll(rows => rows.map(row => row.getAttribute('data-pilot-id')));
  return ids.filter((id): id is string => id !== null);
}

/** Runs one cell and fails with the cell's error output if it raised. */
export async function runCell(page: IJupyterLabPageFixture, index: number): Promise<void> {
  await page.notebook.runCell(index);
  const cell = await page.notebook.getCellLocator(index);
  if (!cell) {
    throw new Error(`cell ${index} is not in the notebook`);
  }
  const errors = cell.locator(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
  );
  if ((await errors.count()) > 0) {
    throw new Error(`cell ${index} failed:\n${await errors.first().innerText()}`);
  }
}

/** A notebook on the Pilot-Streaming kernel with these code cells. */
export function notebook(cells: string[]) {
  return {
    cells: cells.map(source => ({
      cell_type: 'code',
      execution_count: null,
      metadata: {},
      outputs: [],
      source
    })),
    metadata: {
      kernelspec: {
        name: 'pilot-streaming',
        display_name: 'TypeScript (Pilot-Streaming)',
        language: 'typescript'
      },
      language_info: { name: 'typescript' }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
}

/** Writes the notebook through the contents API and opens it in the UI (by command). */
export async function openNotebook(
  page: IJupyterLabPageFixture,
  notebookPath: string,
  cells: string[]
): Promise<void> {
  await page.contents.uploadContent(JSON.stringify(notebook(cells)), 'text', notebookPath);
  // Opened by command: the file browser is not the visible side panel here.
  await page.evaluate(async path => {
    await window.jupyterapp.commands.execute('docmanager:open', { path });
  }, notebookPath);
  const name = path.posix.basename(notebookPath);
  await expect(
    page.getByRole('main').getByRole('tab', { name: new RegExp(`^${name}`) })
  ).toBeVisible();
  expect(await page.notebook.activate(name)).toBe(true);
}

const FINAL_STATES = ['Done', 'Failed', 'Canceled'];

/** Waits until the row shows `state`; stops early, with the pilot's record, if it ends otherwise. */
export async function waitForState(
  row: Locator,
  pilotId: string,
  state: string,
  timeout: number
): Promise<void> {
  await expect
    .poll(() => row.getAttribute('data-state'), { timeout, intervals: [500] })
    .toMatch(new RegExp(`^(${[state, ...FINAL_STATES].join('|')})$`));
  const reached = await row.getAttribute('data-state');
  expect(reached, `pilot ${pilotId} is ${reached}, not ${state}:\n${showWithCli(pilotId)}`).toBe(
    state
  );
}

export function showWithCli(pilotId: string): string {
  return execFileSync(process.execPath, [CLI, 'show', pilotId], {
    encoding: 'utf8',
    timeout: 30_000
  });
}

/** After a failure half-way: no framework may be left running. */
export function cancelWithCli(pilotId: string): void {
  try {
    execFileSync(process.execPath, [CLI, 'cancel', pilotId], { stdio: 'inherit', timeout: 60_000 });
  } catch (error) {
    console.error(`could not cancel pilot ${pilotId} after the failure: ${String(error)}`);
  }
}

/**
 * Creates a `type` pilot on fork://localhost with the panel's form; resolves with its id (the
 * one row that was not there before) and its row.
 */
export async function createFromPanel(
  panel: Locator,
  type: string
): Promise<{ pilotId: string; row: Locator }> {
  const before = await pilotIds(panel);
  await panel.locator('select[name="type"]').selectOption(type);
  await expect(panel.locator('input[name="resource"]')).toHaveValue('fork://localhost');
  await panel.locator('button.ps-NewPilot-create').click();
  await expect.poll(async () => (await pilotIds(panel)).length).toBe(before.length + 1);
  const pilotId = (await pilotIds(panel)).find(id => !before.includes(id));
  expect(pilotId).toBeDefined();
  return { pilotId: pilotId!, row: panel.locator(`.ps-PilotRow[data-pilot-id="${pilotId}"]`) };
}

/** Cancels with the row's button (and its dialog, if any) and waits until it is Canceled. */
export async function cancelFromPanel(
  page: IJupyterLabPageFixture,
  row: Locator,
  pilotId: string
): Promise<void> {
  await row.locator('button.ps-PilotRow-cancel').click();
  const dialog = page.locator('.jp-Dialog');
  if (await dialog.isVisible()) {
    await dialog.locator('.jp-mod-accept').click();
  }
  await waitForState(row, pilotId, 'Canceled', 60_000);
}
