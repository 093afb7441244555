import { describe, expect, it } from 'vitest';
import { runCells, texts } from '../../support/kernel-cells.js';
import { usePilotTestHome } from '../../support/pilot-home.js';

describe('pilots and %pilot in the real kernel', () => {
  const test = usePilotTestHome('test');

  it('creates, lists, shows, uses and cancels a pilot from cells', async () => {
    const cells = [
      '%pilot create kafka --resource fork://localhost --name from-kernel --wait',
      '%pilot list',
      '%pilot show {pilot_id}',
      [
        "const pilot = await pilots.getPilot('{pilot_id}');",
        'const admin = (await pilot.getContext()).admin();',
        'await admin.connect();',
        "await admin.createTopics({ topics: [{ topic: 'cells' }], waitForLeaders: true });",
        "const offsets = await admin.fetchTopicOffsets('cells');",
        'await admin.disconnect();',
        'offsets.length'
      ].join('\n'),
      '%pilot launch kafka',
      '%pilot create kafka --resource fork://example.org',
      '%pilot cancel {pilot_id}'
    ];
    const results = await runCells(test, cells);
    const [create, list, show, use, unknown, invalid, cancel] = results;

    expect(create!.status).toBe('ok');
    const id = /pilot-[a-z0-9]{12}/.exec(texts(create!).join('\n'))![0];
    expect(create!.outputs[0]!.type).toBe('display_data');
    // The same display line follows the start-up until Running.
    const updates = create!.outputs.filter(output => output.type === 'update_display_data');
    expect(updates.length).toBeGreaterThan(0);
    expect(texts(create!).at(-1)).toMatch(
      new RegExp(`^${id} Running, bootstrap servers 127\\.0\\.0\\.1:\\d+$`)
    );

    expect(list!.status).toBe('ok');
    expect(texts(list!).join('\n')).toMatch(new RegExp(`${id}\\s+from-kernel\\s+Running\\s+kafka`));
    const listHtml = (list!.outputs[0]!.content.data as Record<string, string>)['text/html'];
    expect(listHtml).toContain(`<td>${id}</td>`);

    expect(show!.status).toBe('ok');
    const shown = (show!.outputs[0]!.content.data as Record<string, { id: string; state: string }>)[
      'application/json'
    ];
    expect(shown).toMatchObject({ id, state: 'Running' });

    expect(use!.status).toBe('ok');
    const result = use!.outputs.find(output => output.type === 'execute_result');
    expect((result?.content.data as Record<string, string>)['text/plain']).toBe('1');

    expect(unknown!.status).toBe('error');
    expect(texts(unknown!).join('\n')).toMatch(/unknown command "launch"/);
    expect(invalid!.status).toBe('error');
    expect(texts(invalid!).join('\n')).toMatch(/resource = "fork:\/\/example.org"/);

    expect(cancel!.status).toBe('ok');
    expect(texts(cancel!).join('\n')).toContain(`${id} Canceled`);
    expect((await test.service.getPilot(id)).state).toBe('Canceled');
  });

  it('loses no pilot across a kernel restart: the new kernel reattaches and its context works', async () => {
    const [create, restarted, reattach, use] = await runCells(test, [
      '%pilot create kafka --resource fork://localhost --name survives-restart --wait',
      'RESTART_KERNEL',
      "const pilot = await pilots.getPilot('{pilot_id}');\npilot.state",
      [
        'const kafka = await pilot.getContext();',
        'const producer = kafka.producer();',
        'await producer.connect();',
        "await producer.send({ topic: 'after-restart', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });",
        'await producer.disconnect();',
        'const admin = kafka.admin();',
        'await admin.connect();',
        "const [offsets] = await admin.fetchTopicOffsets('after-restart');",
        'await admin.disconnect();',
        'offsets.high'
      ].join('\n')
    ]);
    expect(create!.status).toBe('ok');
    const id = /pilot-[a-z0-9]{12}/.exec(texts(create!).join('\n'))![0];
    expect(restarted!.status).toBe('restarted');
    // The first kernel is gone; the pilot it made is not.
    expect(reattach!.status).toBe('ok');
    expect(texts(reattach!)).toContain("'Running'");
    expect(use!.status).toBe('ok');
    expect(texts(use!)).toContain("'3'");
    expect((await test.service.getPilot(id)).state).toBe('Running');
  });

  it('an interrupted %pilot create --wait stops its line and says the pilot keeps running and how to cancel it', async () => {
    const [create, later, show] = await runCells(test, [
      {
        code: '%pilot create kafka --resource fork://localhost --walltime 20 --wait',
        // Interrupted once the line names the pilot, long before it is Running.
        interrupt_when: 'pilot-[a-z0-9]{12} Pending'
      },
      'await new Promise(resolve => setTimeout(resolve, 3000));',
      '%pilot show {pilot_id}'
    ]);
    expect(create!.status).toBe('error');
    const shown = texts(create!);
    expect(shown.at(-1)).toBe('KeyboardInterrupt: Interrupted');
    const id = /pilot-[a-z0-9]{12}/.exec(shown.join('\n'))![0];
    // The line's last state is the note; the cell's error comes after it.
    const note = shown.at(-2)!;
    expect(note).toMatch(
      new RegExp(
        `^${id} keeps running \\((Pending|Running)[^)]*\\) until it is canceled or its walltime of 20 min ends; cancel it with %pilot cancel ${id}$`
      )
    );
    // Nothing updates the line after the interrupt.
    expect(later!.status).toBe('ok');
    expect(later!.late ?? []).toEqual([]);

    expect(show!.status).toBe('ok');
    const record = (show!.outputs[0]!.content.data as Record<string, { state: string }>)[
      'application/json'
    ];
    expect(['Pending', 'Running']).toContain(record.state);
    const pilot = await test.service.getPilot(id);
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
  });
});
