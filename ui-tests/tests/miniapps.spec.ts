import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { expect, test } from '@jupyterlab/galata';
import { CLI, notebook, runCell, SCREENSHOTS } from './support/pilots-ui';

const TOOTH = path.join(__dirname, '..', '..', 'binder', 'data', 'tooth.h5');
const UNIT_ENTRY = path.join('miniapps', 'unit-main.js');

/** Mini-App unit processes alive now that work for `pilotId` (their directory is the pilot's). */
function unitProcesses(pilotId: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const commandLine = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (commandLine.includes(UNIT_ENTRY) && readlinkSync(`/proc/${name}/cwd`).includes(pilotId))
        found.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

test.describe('Mini-App widget', () => {
  test.use({ viewport: { width: 1400, height: 1000 } });

  test('MASS and MASA from magics: live slice and rising count, stop ends both', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(600_000);
    const created = execFileSync(
      process.execPath,
      [CLI, 'create', '--type', 'kafka', '--resource', 'fork://localhost'],
      { encoding: 'utf8', timeout: 240_000 }
    );
    const pilotId = /pilot-[a-z0-9]{12}/.exec(created)?.[0];
    expect(pilotId, created).toBeDefined();
    try {
      const notebookPath = `${tmpPath}/miniapps.ipynb`;
      await page.contents.uploadContent(
        JSON.stringify(
          notebook([
            `%masa start --pilot ${pilotId} --topic tooth --processor gridrec --center message`,
            `%mass start --pilot ${pilotId} --source lightsource --file ${TOOTH} --center 296 --rate 2 --topic tooth`,
            '%mass stop',
            '%masa stop'
          ])
        ),
        'text',
        notebookPath
      );
      await page.evaluate(async path => {
        await window.jupyterapp.commands.execute('docmanager:open', { path });
      }, notebookPath);
      expect(await page.notebook.activate('miniapps.ipynb')).toBe(true);

      await runCell(page, 0);
      await runCell(page, 1);
      const widget = (await page.notebook.getCellLocator(0))!.locator('.ps-MiniAppRun');
      await expect(widget).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
      const slice = widget.locator('img.ps-MiniAppRun-slice');
      await expect(slice).toBeVisible({ timeout: 60_000 });
      // A real image: the browser decoded it to its full size.
      expect(await slice.evaluate(img => (img as HTMLImageElement).naturalWidth)).toBe(213);

      // The processed count rises while the source runs.
      const processed = async () => Number(await widget.getAttribute('data-processed'));
      await expect.poll(processed, { timeout: 60_000 }).toBeGreaterThan(0);
      const first = await processed();
      await expect.poll(processed, { timeout: 60_000 }).toBeGreaterThan(first);
      await widget.scrollIntoViewIfNeeded();
      await widget.screenshot({
        path: path.join(SCREENSHOTS, 'miniapp-reconstruction-widget.png')
      });

      await runCell(page, 2);
      await runCell(page, 3);
      await expect(widget).toHaveAttribute('data-state', 'ended', { timeout: 60_000 });
      await expect(widget).toHaveAttribute('data-lost', '0');
      const massWidget = (await page.notebook.getCellLocator(1))!.locator('.ps-MiniAppRun');
      await expect(massWidget).toHaveAttribute('data-state', 'ended');
      expect(unitProcesses(pilotId!)).toEqual([]);
    } finally {
      execFileSync(process.execPath, [CLI, 'cancel', pilotId!], { timeout: 60_000 });
    }
  });
});
