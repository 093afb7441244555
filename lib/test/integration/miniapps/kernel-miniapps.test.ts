import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINIAPP_RUN_MIME_TYPE, type MiniAppRunView } from '../../../src/protocol/index.js';
import { runCells, texts, type CellResult } from '../../support/kernel-cells.js';
import { sharedDataDir } from '../../support/paths.js';
import { createPilotTestHome, type PilotTestHome } from '../../support/pilot-home.js';

/** The run views a cell displayed (display_data with the widget's MIME type). */
function views(cell: CellResult): MiniAppRunView[] {
  return cell.outputs
    .map(
      output =>
        (output.content.data as Record<string, unknown> | undefined)?.[MINIAPP_RUN_MIME_TYPE]
    )
    .filter((view): view is MiniAppRunView => view !== undefined);
}

describe('Mini-Apps in notebook cells', () => {
  let test: PilotTestHome;
  beforeAll(async () => {
    test = await createPilotTestHome();
  });
  afterAll(async () => {
    await test.cleanup();
  });

  it('starts MASA and MASS with the magics, shows the live widget and keeps the records past a restart', async () => {
    const tooth = join(sharedDataDir, 'tooth.h5');
    const cells = await runCells(test, [
      "const pilot = await pilots.createPilot({ type: 'kafka', resource: 'fork://localhost' });\n" +
        "await pilot.wait('Running', { timeoutMs: 170_000 });\npilot.id",
      '%masa start --pilot {pilot.id} --topic tooth --processor gridrec --center message --until drained',
      `%mass start --pilot {pilot.id} --source lightsource --file ${tooth} --center 296 --rate 4 --messages 6 --topic tooth`,
      'const [sink, source] = miniapps.runs.map(run => run);\n' +
        'const summary = await sink.done();\n' +
        'const view = sink.view();\n' +
        'console.log(JSON.stringify({ state: summary.state, processed: summary.processed, lost: summary.lost, duplicated: summary.duplicated, slice: view.slice?.width, png: view.slice?.png.slice(0, 22), produced: (await source.done()).produced }))',
      '%masa list',
      '%masa stopp',
      'RESTART_KERNEL',
      'const records = await miniapps.records("{pilot_id}");\n' +
        'console.log(JSON.stringify(records.map(r => [r.consumers.length, r.producers.length])))'
    ]);
    const [create, masaStart, massStart, done, list, wrong, , records] = cells;
    expect(create!.status).toBe('ok');
    for (const [cell, role] of [
      [masaStart!, 'masa'],
      [massStart!, 'mass']
    ] as const) {
      expect(cell.status, texts(cell).join('\n')).toBe('ok');
      const [view] = views(cell);
      expect(view).toMatchObject({ role, topic: 'tooth', state: 'starting' });
    }
    expect(done!.status, texts(done!).join('\n')).toBe('ok');
    expect(JSON.parse(texts(done!).join(''))).toEqual({
      state: 'ended',
      processed: 6,
      lost: 0,
      duplicated: 0,
      slice: 213,
      png: 'data:image/png;base64,',
      produced: 6
    });
    expect(texts(list!).join('\n')).toMatch(
      /MiniAppRun \{ masa gridrec, id [0-9a-f-]{36}, topic "tooth", ended \}/
    );
    expect(wrong!.status).toBe('error');
    expect(texts(wrong!).join('\n')).toMatch(/%masa: unknown command "stopp"/);
    expect(JSON.parse(texts(records!).join(''))).toEqual(
      expect.arrayContaining([
        [1, 1],
        [0, 1]
      ])
    );
  });
});
