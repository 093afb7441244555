import { describe, expect, it } from 'vitest';
import { runCells, texts } from '../../support/kernel-cells.js';
import { usePilotTestHome } from '../../support/pilot-home.js';

describe('cells and introspection in the real kernel', () => {
  const test = usePilotTestHome('test');

  it('keeps a top-level const constant across cells, yet lets a re-run cell declare it again', async () => {
    const [assignInCell, assignLater, rerun, template] = await runCells(test, [
      'const zc = 1;\nzc = 2;',
      'zc = 3;',
      'const zc = 10;\nzc',
      "const s = `a\n%pilot list\n`;\ns.split('\\n')[1]"
    ]);
    expect(assignInCell!.status).toBe('error');
    expect(texts(assignInCell!)).toEqual(['TypeError: Assignment to constant variable.']);
    const traceback = (assignInCell!.outputs[0]!.content.traceback as string[]).join('\n');
    expect(traceback).toContain('<cell-1>:2:');
    expect(assignLater!.status).toBe('error');
    expect(texts(assignLater!)).toEqual(['TypeError: Assignment to constant variable.']);
    expect(rerun!.status).toBe('ok');
    expect(texts(rerun!)).toEqual(['10']);
    // A `%` line inside a template literal is text, not a magic.
    expect(template!.status).toBe('ok');
    expect(texts(template!)).toEqual(["'%pilot list'"]);
  });

  it('answers is_complete, completion and inspection over the wire', async () => {
    const [open, invalid, defined, members, literal, promise, method, declared] = await runCells(
      test,
      [
        { is_complete: 'const a = {' },
        { is_complete: 'const a = }' },
        [
          '/** Doubles `x`. */',
          'function double(x: number): number {',
          '  return 2 * x;',
          '}',
          'const pending = Promise.resolve(1);'
        ].join('\n'),
        { complete: 'pilots.' },
        { complete: '[1,2].' },
        { complete: 'pending.' },
        { inspect: 'pilots.createPilot' },
        { inspect: 'double(', cursor_pos: 3 }
      ]
    );
    expect(open!.reply).toMatchObject({ status: 'incomplete' });
    expect(invalid!.reply).toMatchObject({ status: 'invalid' });
    expect(defined!.status).toBe('ok');

    const pilotMembers = members!.reply!.matches as string[];
    expect(pilotMembers).toEqual(expect.arrayContaining(['createPilot', 'getPilot', 'listPilots']));
    // TypeScript-private members of the service are properties at run time; they are not offered.
    for (const hidden of ['pilots', 'backend', 'retained', 'connectionOf', 'scanOnce']) {
      expect(pilotMembers).not.toContain(hidden);
    }
    expect(literal!.reply!.matches).toEqual(expect.arrayContaining(['map', 'length', 'at']));
    expect(literal!.reply!.matches).not.toContain('pilots');
    expect(promise!.reply!.matches).toEqual(['catch', 'finally', 'then']);

    const methodText = (method!.reply!.data as Record<string, string>)['text/plain'];
    expect(methodText).toContain('createPilot(input: PilotDescriptionInput');
    expect(methodText).toContain('Validates the description');
    const declaredText = (declared!.reply!.data as Record<string, string>)['text/plain'];
    expect(declaredText).toBe(
      'double: function\nfunction double(x: number): number\n\nDoubles `x`.'
    );
  });
});
