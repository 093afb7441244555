import * as path from 'node:path';
import { expect, test } from '@jupyterlab/galata';
import {
  cancelFromPanel,
  cancelWithCli,
  createFromPanel,
  openNotebook,
  openPilotsPanel,
  PANEL_ID,
  runCell,
  SCREENSHOTS,
  waitForState
} from './support/pilots-ui';

// The first Dask pilot of a cache makes its Python environment (about a minute on two cores).
const RUNNING_TIMEOUT = 240_000;

function notebookCells(pilotId: string): string[] {
  return [
    `const pilot = await pilots.getPilot('${pilotId}');
const dask = await pilot.getContext<DaskContext>();
const info = await dask.info();
console.log(\`pilot \${pilot.id} is \${pilot.state} with \${info.workers.length} worker(s)\`);`,

    `const square = { code: 'def square(x):\\n    return x * x', name: 'square' };
const squares = await dask.gather<number>(await dask.map(square, Array.from({ length: 100 }, (_, i) => i)));
console.log(\`sum of squares \${squares.reduce((a, b) => a + b, 0)}\`);`
  ];
}

test.describe('Dask pilots', () => {
  test.use({ viewport: { width: 1400, height: 900 } });

  test('Dask pilot from the panel: its dashboard in a tab, its context in a notebook, cancel', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(480_000);
    let pilotId: string | undefined;
    let canceled = false;
    try {
      const panel = await openPilotsPanel(page);
      const created = await createFromPanel(panel, 'dask');
      pilotId = created.pilotId;
      const row = created.row;
      await waitForState(row, pilotId, 'Running', RUNNING_TIMEOUT);
      await expect(row).toContainText('dask');

      // The dashboard: Dask's own page, through the Jupyter server, with live (websocket) plots.
      const liveUpdate = page.waitForEvent('websocket', {
        predicate: socket => socket.url().includes(`/pilot-dashboards/${pilotId}/`),
        timeout: 60_000
      });
      await row.locator('button.ps-PilotRow-dashboard').click();
      const tab = page.getByRole('main').getByRole('tab', { name: `Dashboard ${pilotId}` });
      await expect(tab).toBeVisible();
      const dashboard = page.frameLocator('.ps-Dashboard-frame iframe');
      await expect(dashboard.getByRole('link', { name: 'Workers' })).toBeVisible({
        timeout: 60_000
      });
      // Bokeh drew the status page's plots (their titles are text).
      await expect(dashboard.getByText('Data Transfer')).toBeVisible({ timeout: 60_000 });
      const socket = await liveUpdate;
      await socket.waitForEvent('framereceived', { timeout: 60_000 });
      await page.screenshot({ path: path.join(SCREENSHOTS, 'dask-dashboard.png') });

      // The same pilot's context in a notebook.
      await openNotebook(page, `${tmpPath}/dask-context.ipynb`, notebookCells(pilotId));
      await runCell(page, 0);
      await runCell(page, 1);
      expect((await page.notebook.getCellTextOutput(0))?.join('')).toContain(
        `pilot ${pilotId} is Running with 1 worker(s)`
      );
      expect((await page.notebook.getCellTextOutput(1))?.join('')).toContain(
        'sum of squares 328350'
      );

      await page.sidebar.openTab(PANEL_ID);
      await cancelFromPanel(page, row, pilotId);
      canceled = true;
      await expect(row.locator('button.ps-PilotRow-dashboard')).toHaveCount(0);
    } finally {
      if (pilotId && !canceled) {
        cancelWithCli(pilotId);
      }
    }
  });
});
