import { describe, expect, it } from 'vitest';
import { KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '../../../src/protocol/index.js';
import { runCells, texts, type CellResult } from '../../support/kernel-cells.js';
import { usePilotTestHome } from '../../support/pilot-home.js';

/** The lag views a cell's outputs (and the late ones of the cells before it) carried. */
function lagViews(outputs: CellResult['outputs']): KafkaLagView[] {
  return outputs.flatMap(output => {
    const data = output.content.data as Record<string, unknown> | undefined;
    const view = data?.[KAFKA_LAG_MIME_TYPE] as KafkaLagView | undefined;
    return view === undefined ? [] : [view];
  });
}

const WAIT = "await new Promise(resolve => setTimeout(resolve, 2000)); 'waited'";

describe('kafkaLag in the real kernel', () => {
  const test = usePilotTestHome('test');

  it('fails at once on an unknown pilot, watches for a missing topic, and ends with the pilot', async () => {
    const [create, unknown, started, waited, cancel, afterCancel] = await runCells(test, [
      '%pilot create kafka --resource fork://localhost --name lag-kernel --wait',
      "await kafkaLag('pilot-0000deadbeef', { topic: 'events', groupId: 'readers' })",
      // Not awaited, as in the README: the widget still shows in this cell.
      [
        "const pilot = await pilots.getPilot('{pilot_id}');",
        "kafkaLag(pilot, { topic: 'events', groupId: 'readers', intervalMs: 200 })"
      ].join('\n'),
      WAIT,
      '%pilot cancel {pilot_id}',
      WAIT
    ]);
    expect(create!.status).toBe('ok');
    const id = /pilot-[a-z0-9]{12}/.exec(texts(create!).join('\n'))![0];

    expect(unknown!.status).toBe('error');
    const message = texts(unknown!).join('\n');
    expect(message).toContain('No pilot with id "pilot-0000deadbeef" in the registry at');
    expect(message).toContain(`the pilots there: ${id} (lag-kernel, Running)`);
    expect(lagViews(unknown!.outputs)).toEqual([]);

    expect(started!.status).toBe('ok');
    expect(started!.outputs[0]!.type).toBe('display_data');
    expect(texts(started!).at(-1)).toBe(
      'KafkaLagMonitor { topic: "events", groupId: "readers", running; .stop() ends it }'
    );
    const running = [...lagViews(started!.outputs), ...lagViews(waited!.late ?? [])];
    expect(running.at(-1)).toMatchObject({ pilotId: id, topic: 'events', topicExists: false });
    // The missing topic is looked for slowly, not every 200 ms.
    expect(running.length).toBeLessThanOrEqual(3);

    expect(cancel!.status).toBe('ok');
    const final = [...lagViews(cancel!.late ?? []), ...lagViews(afterCancel!.late ?? [])].at(-1);
    expect(final).toMatchObject({ stopped: true, pilotEnded: 'Canceled' });
  });
});
