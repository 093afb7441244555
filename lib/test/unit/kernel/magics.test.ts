import { describe, expect, it } from 'vitest';
import { UsageError, magicArguments, replaceMagics } from '../../../src/kernel/executor/magics.js';

const CALLEES = { line: 'k.magic', cell: 'k.cell' };

describe('replaceMagics', () => {
  it('finds magics at the start of lines and keeps the line count', () => {
    const source =
      'const a = 1;\n%pilot create kafka --resource fork://localhost\n  %pilot list\nconsole.log(a % 2);\n%time';
    const { code, magics } = replaceMagics(source, CALLEES);
    expect(magics).toEqual([
      { kind: 'line', line: 2, name: 'pilot', args: 'create kafka --resource fork://localhost' },
      { kind: 'line', line: 3, name: 'pilot', args: 'list' },
      { kind: 'line', line: 5, name: 'time', args: '' }
    ]);
    const lines = code.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('const a = 1;');
    expect(lines[1]).toBe('await k.magic("pilot", "create kafka --resource fork://localhost");');
    expect(lines[2]).toBe('  await k.magic("pilot", "list");');
    expect(lines[3]).toBe('console.log(a % 2);');
    expect(lines[4]).toBe('await k.magic("time", "");');
  });

  it('quotes arguments safely', () => {
    const { code } = replaceMagics('%say "hi" \\ `there` $x', { line: 'm', cell: 'c' });
    expect(code).toBe('await m("say", "\\"hi\\" \\\\ `there` $x");');
  });

  it('expands {expression} in arguments where the magic stands, like IPython', () => {
    const { code } = replaceMagics('%pilot cancel {pilot.id}', { line: 'm', cell: 'c' });
    expect(code).toBe('await m("pilot", `cancel ${pilot.id}`);');
    const pilot = { id: 'pilot-0123456789ab' };
    const args = new Function('pilot', `return ${magicArguments('cancel {pilot.id} {{x}} `$\\')};`);
    expect(args(pilot)).toBe('cancel pilot-0123456789ab {x} `$\\');
  });

  it('refuses an unbalanced brace in arguments, naming it', () => {
    expect(() => magicArguments('cancel {pilot.id')).toThrow(
      /"\{" at column 8 expected an expression/
    );
    expect(() => magicArguments('cancel {}')).toThrow(UsageError);
    expect(() => magicArguments('cancel }')).toThrow(/"\}" at column 8 has no opening/);
  });

  it('leaves code without magics alone', () => {
    const source = 'const pct = 5 % 3;\nconst s = "%notmagic";';
    expect(replaceMagics(source, CALLEES)).toEqual({ code: source, magics: [] });
  });

  it('hands a %% cell over whole, keeping its line count', () => {
    const source = '\n%%sql --db x\nselect 1\n  from t;';
    const { code, magics } = replaceMagics(source, CALLEES);
    expect(magics).toEqual([{ kind: 'cell', line: 2, name: 'sql', args: '--db x' }]);
    expect(code.split('\n')).toEqual([
      '',
      'await k.cell("sql", "--db x", "select 1\\n  from t;", {"file":"<cell>","line":3});',
      '',
      ''
    ]);
    expect(() => replaceMagics('%%\nbody', CALLEES)).toThrow(UsageError);
  });
});

describe('replaceMagics leaves % lines inside literals and comments alone', () => {
  const unchanged = (source: string) =>
    expect(replaceMagics(source, CALLEES)).toEqual({ code: source, magics: [] });

  it('inside a template literal, also after a ${} with braces and a nested template', () => {
    unchanged('const s = `a\n%pilot list\n`;');
    unchanged('const s = `${{ a: 1 }.a} and ${`inner ${"}"}`}\n%pilot list\n`;');
    unchanged('const s = `a${\n  `\n%time\n`\n}`;');
  });

  it('inside block comments and strings continued with a backslash', () => {
    unchanged('/* note:\n%pilot cancel all\n*/\nconst a = 1;');
    unchanged("const s = 'a\\\n%pilot list';");
  });

  it('after a regular expression holding quotes or backticks', () => {
    const source = "const r = /['`]/g;\n%pilot list";
    expect(replaceMagics(source, CALLEES).code.split('\n')[1]).toBe(
      'await k.magic("pilot", "list");'
    );
    unchanged('const r = /`/;\nconst s = `\n%time\n`;');
  });

  it('after division, a comment or a string with a backtick, magics are still found', () => {
    const source =
      "const a = 4 / 2, b = a / 1; // don't `\nconst q = '`';\n%time\nconst t = `x`;\n  %pilot list";
    const { magics } = replaceMagics(source, CALLEES);
    expect(magics.map(magic => magic.line)).toEqual([3, 5]);
  });

  it('a magic whose arguments hold an unbalanced quote or backtick does not open a literal', () => {
    const { magics } = replaceMagics('%say "it\'s `odd\n%time', CALLEES);
    expect(magics.map(magic => magic.name)).toEqual(['say', 'time']);
  });
});
