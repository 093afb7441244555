import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, test } from '@jupyterlab/galata';
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

const PANEL_ID = 'pilot-streaming-panel';
const SCREENSHOTS = path.join(__dirname, '..', 'test-results', 'screenshots');
const CLI = path.join(__dirname, '..', '..', 'lib', 'dist', 'cli', 'main.js');
// Kafka needs 10-30 s to start on a busy two-core machine; allow for much worse.
const RUNNING_TIMEOUT = 180_000;

const TOPIC = 'e2e-lag';
const GROUP_ID = 'e2e-group';

async function openPilotsPanel(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab(PANEL_ID);
  const panel = page.locator(`#${PANEL_ID}`);
  await expect(panel).toBeVisible();
  return panel;
}

async function pilotIds(panel: Locator): Promise<string[]> {
  const ids = await panel
    .locator('.ps-PilotRow')
    .evaluateAll(rows => rows.map(row => row.getAttribute('data-pilot-id')));
  return ids.filter((id): id is string => id !== null);
}

/** Runs one cell and fails with the cell's error output if it raised. */
async function runCell(page: IJupyterLabPageFixture, index: number): Promise<void> {
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

function notebookCells(pilotId: string): string[] {
  return [
    `const pilot = await pilots.getPilot('${pilotId}');
const kafka = await pilot.getContext();
console.log(\`pilot \${pilot.id} is \${pilot.state}\`);`,

    `const topic = '${TOPIC}';
const groupId = '${GROUP_ID}';
const admin = kafka.admin();
await admin.connect();
// One partition, so that "the first 400 messages" and their committed offset are exact.
await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });`,

    `const producer = kafka.producer();
await producer.connect();
for (let batch = 0; batch < 10; batch++) {
  const messages = Array.from({ length: 100 }, (_, i) => ({ value: \`message \${batch * 100 + i}\` }));
  await producer.send({ topic, messages });
}
await producer.disconnect();
const [end] = await admin.fetchTopicOffsets(topic);
console.log(\`log end offset \${end.high}\`);`,

    `const consumer = kafka.consumer({ groupId });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
let consumed = 0;
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(\`consumed only \${consumed} messages in 60 s\`)), 60_000);
  consumer
    .run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (consumed >= 400) return;
        consumed += 1;
        if (consumed === 400) {
          // Commit exactly the 400 messages read: the next offset to read is 400.
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
          consumer.pause([{ topic }]);
          clearTimeout(timer);
          resolve();
        }
      }
    })
    .catch(reject);
});
await consumer.disconnect();
const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
console.log(\`consumed \${consumed}, committed offset \${committed.partitions[0].offset}\`);
await admin.disconnect();`,

    `kafkaLag(pilot, { topic, groupId });`
  ];
}

test.describe('Pilots panel', () => {
  // Room for the panel next to a notebook (the screenshots go into the README).
  test.use({ viewport: { width: 1400, height: 900 } });

  test('rejects an invalid resource without creating a pilot', async ({ page }) => {
    const panel = await openPilotsPanel(page);
    const before = await pilotIds(panel);

    await panel.locator('select[name="type"]').selectOption('kafka');
    await panel.locator('input[name="resource"]').fill('ftp://localhost');
    await panel.locator('button.ps-NewPilot-create').click();

    const error = panel.locator('.ps-NewPilot-error');
    await expect(error).toBeVisible();
    await expect(error).toContainText('resource');
    await expect(error).toContainText('ftp://localhost');
    expect(await pilotIds(panel)).toEqual(before);
  });

  test('follows pilots created and cancelled from the command line, live', async ({ page }) => {
    test.setTimeout(300_000);
    const panel = await openPilotsPanel(page);
    let pilotId: string | undefined;
    let canceled = false;
    try {
      const created = execFileSync(
        process.execPath,
        [
          CLI,
          'create',
          '--type',
          'kafka',
          '--resource',
          'fork://localhost',
          '--name',
          'from-cli',
          '--no-wait'
        ],
        { encoding: 'utf8', timeout: 60_000 }
      );
      pilotId = /pilot-[a-z0-9]{12}/.exec(created)?.[0];
      expect(pilotId, created).toBeDefined();

      // No reload, no click: the panel learns of it from the registry.
      const row = panel.locator(`.ps-PilotRow[data-pilot-id="${pilotId}"]`);
      await expect(row).toBeVisible({ timeout: 10_000 });
      await expect(row).toContainText('from-cli');
      await waitForState(row, pilotId!, 'Running', RUNNING_TIMEOUT);

      execFileSync(process.execPath, [CLI, 'cancel', pilotId!], { timeout: 60_000 });
      canceled = true;
      await waitForState(row, pilotId!, 'Canceled', 10_000);
    } finally {
      if (pilotId && !canceled) {
        cancelWithCli(pilotId);
      }
    }
  });

  test('Kafka pilot from the panel: context in a notebook, lag widget, cancel', async ({
    page,
    tmpPath
  }) => {
    test.setTimeout(600_000);
    let pilotId: string | undefined;
    let canceled = false;
    try {
      const panel = await openPilotsPanel(page);
      const before = await pilotIds(panel);

      await panel.locator('select[name="type"]').selectOption('kafka');
      const resource = panel.locator('input[name="resource"]');
      await expect(resource).toHaveValue('fork://localhost');
      await panel.locator('button.ps-NewPilot-create').click();

      // The new pilot is the one row whose id was not there before.
      await expect.poll(async () => (await pilotIds(panel)).length).toBe(before.length + 1);
      pilotId = (await pilotIds(panel)).find(id => !before.includes(id));
      expect(pilotId).toBeDefined();
      const row = panel.locator(`.ps-PilotRow[data-pilot-id="${pilotId}"]`);
      await waitForState(row, pilotId!, 'Running', RUNNING_TIMEOUT);
      await expect(row).toContainText('kafka');
      await expect(row).toContainText('fork://localhost');
      await panel.screenshot({ path: path.join(SCREENSHOTS, 'pilots-panel-running.png') });

      // A notebook on our kernel, written through the contents API and opened in the UI.
      const notebookPath = `${tmpPath}/kafka-lag.ipynb`;
      await page.contents.uploadContent(
        JSON.stringify(notebook(notebookCells(pilotId!))),
        'text',
        notebookPath
      );
      // Opened by command: the file browser is not the visible side panel here.
      await page.evaluate(async path => {
        await window.jupyterapp.commands.execute('docmanager:open', { path });
      }, notebookPath);
      await expect(
        page.getByRole('main').getByRole('tab', { name: /^kafka-lag\.ipynb/ })
      ).toBeVisible();
      expect(await page.notebook.activate('kafka-lag.ipynb')).toBe(true);

      for (let index = 0; index < 4; index++) {
        await runCell(page, index);
      }
      expect((await page.notebook.getCellTextOutput(0))?.join('')).toContain(
        `pilot ${pilotId} is Running`
      );
      expect((await page.notebook.getCellTextOutput(2))?.join('')).toContain('log end offset 1000');
      expect((await page.notebook.getCellTextOutput(3))?.join('')).toContain(
        'consumed 400, committed offset 400'
      );

      await runCell(page, 4);
      const lag = (await page.notebook.getCellLocator(4))!.locator('.ps-KafkaLag');
      await expect(lag).toHaveAttribute('data-total-lag', '600', { timeout: 30_000 });
      await expect(lag).toContainText('Total lag: 600');
      await expect(lag.locator('.ps-KafkaLag-partition')).toHaveCount(1);
      // A few more samples so that the time series has a line to draw.
      await page.waitForTimeout(4000);
      await expect(lag).toHaveAttribute('data-total-lag', '600');
      await lag.scrollIntoViewIfNeeded();
      await lag.screenshot({ path: path.join(SCREENSHOTS, 'kafka-lag-widget.png') });
      await page.sidebar.openTab(PANEL_ID);
      await page.screenshot({ path: path.join(SCREENSHOTS, 'jupyterlab-pilot-and-lag.png') });

      // Cancel from the panel.
      await row.locator('button.ps-PilotRow-cancel').click();
      const dialog = page.locator('.jp-Dialog');
      if (await dialog.isVisible()) {
        await dialog.locator('.jp-mod-accept').click();
      }
      await waitForState(row, pilotId!, 'Canceled', 60_000);
      canceled = true;
    } finally {
      // A failure half-way must not leave a broker running.
      if (pilotId && !canceled) {
        cancelWithCli(pilotId);
      }
    }
  });
});

const FINAL_STATES = ['Done', 'Failed', 'Canceled'];

/** Waits until the row shows `state`; stops early, with the pilot's record, if it ends otherwise. */
async function waitForState(row: Locator, pilotId: string, state: string, timeout: number) {
  await expect
    .poll(() => row.getAttribute('data-state'), { timeout, intervals: [500] })
    .toMatch(new RegExp(`^(${[state, ...FINAL_STATES].join('|')})$`));
  const reached = await row.getAttribute('data-state');
  expect(reached, `pilot ${pilotId} is ${reached}, not ${state}:\n${showWithCli(pilotId)}`).toBe(
    state
  );
}

function showWithCli(pilotId: string): string {
  return execFileSync(process.execPath, [CLI, 'show', pilotId], {
    encoding: 'utf8',
    timeout: 30_000
  });
}

function notebook(cells: string[]) {
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

function cancelWithCli(pilotId: string): void {
  try {
    execFileSync(process.execPath, [CLI, 'cancel', pilotId], { stdio: 'inherit', timeout: 60_000 });
  } catch (error) {
    console.error(`could not cancel pilot ${pilotId} after the failure: ${String(error)}`);
  }
}
