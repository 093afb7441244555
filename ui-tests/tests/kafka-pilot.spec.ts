import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { expect, test } from '@jupyterlab/galata';
import {
  cancelFromPanel,
  cancelWithCli,
  CLI,
  createFromPanel,
  openNotebook,
  openPilotsPanel,
  PANEL_ID,
  pilotIds,
  runCell,
  SCREENSHOTS,
  waitForState
} from './support/pilots-ui';
// Kafka needs 10-30 s to start on a busy two-core machine; allow for much worse.
const RUNNING_TIMEOUT = 180_000;

const TOPIC = 'e2e-lag';
const GROUP_ID = 'e2e-group';

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

  test('rejects an invalid resource, node count or configuration line without creating a pilot', async ({
    page
  }) => {
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

    // The folded fields: each framework's example configuration, and lines that are not
    // "key = value" named before anything is sent.
    await panel.locator('select[name="type"]').selectOption('flink');
    await panel.locator('.ps-NewPilot-more summary').click();
    const configuration = panel.locator('textarea[name="configuration"]');
    await expect(configuration).toHaveAttribute(
      'placeholder',
      /taskmanager\.memory\.process\.size/
    );
    await panel.locator('input[name="resource"]').fill('fork://localhost');
    await panel.locator('input[name="nodes"]').fill('2');
    await configuration.fill('parallelism.default = 2\nnot a setting');
    await panel.locator('button.ps-NewPilot-create').click();
    await expect(error).toContainText('configuration line 2');
    await expect(error).toContainText('numberOfNodes');
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
      const created = await createFromPanel(panel, 'kafka');
      pilotId = created.pilotId;
      const row = created.row;
      await waitForState(row, pilotId!, 'Running', RUNNING_TIMEOUT);
      await expect(row).toContainText('kafka');
      await expect(row).toContainText('fork://localhost');
      await panel.screenshot({ path: path.join(SCREENSHOTS, 'pilots-panel-running.png') });

      // A notebook on our kernel, written through the contents API and opened in the UI.
      await openNotebook(page, `${tmpPath}/kafka-lag.ipynb`, notebookCells(pilotId!));

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

      await cancelFromPanel(page, row, pilotId);
      canceled = true;
    } finally {
      // A failure half-way must not leave a broker running.
      if (pilotId && !canceled) {
        cancelWithCli(pilotId);
      }
    }
  });
});
