import { once } from 'node:events';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  CellScope,
  KERNEL_HELPER,
  cellHelpers,
  declareInterruptBindings,
  type CellHelpers,
  patternNames,
  rewriteCell
} from '../../../src/kernel/executor/rewrite.js';

/** Runs rewritten cells one after another in one context, as the kernel does. */
function cells() {
  const context = vm.createContext({});
  const imported: string[] = [];
  context[KERNEL_HELPER] = {
    importModule: async (specifier: string) => {
      imported.push(specifier);
      return { default: `default of ${specifier}`, named: `named of ${specifier}` };
    },
    defaultExport: (ns: Record<string, unknown>) => ns.default,
    namedExport: (ns: Record<string, unknown>, name: string) => ns[name],
    ...cellHelpers(vm.runInContext('globalThis', context) as object)
  };
  declareInterruptBindings(context);
  const scope = new CellScope();
  return {
    context,
    imported,
    run: async (code: string) => {
      const { script, declared } = rewriteCell(code, undefined, scope);
      const completion = vm.runInContext(script, context) as Promise<
        { value: unknown } | undefined
      >;
      scope.record(declared);
      return await completion;
    }
  };
}

describe('rewriteCell', () => {
  it('keeps const/let/var/function/class bindings across cells', async () => {
    const { run } = cells();
    await run(
      'const a = 1;\nlet b = 2;\nvar c = 3;\nfunction f() { return a + b + c; }\nclass K { v = 4; }'
    );
    expect(await run('f() + new K().v')).toEqual({ value: 10 });
    // Declaring again (re-running a cell) is fine.
    await run('const a = 10;');
    expect(await run('f()')).toEqual({ value: 15 });
  });

  it('handles destructuring and declarations without initialiser', async () => {
    const { run } = cells();
    await run('const { x, y: [y1, ...rest], z = 5 } = { x: 1, y: [2, 3, 4] };\nlet u;\nvar w;');
    expect(await run('[x, y1, rest, z, u, w]')).toEqual({
      value: [1, 2, [3, 4], 5, undefined, undefined]
    });
    expect(patternNames({ type: 'Identifier', name: 'q', start: 0, end: 1 } as never)).toEqual([
      'q'
    ]);
  });

  it('supports top-level await and returns the last expression', async () => {
    const { run } = cells();
    expect(await run('const v = await Promise.resolve(41);\nv + 1')).toEqual({ value: 42 });
    expect(await run('const only = 1;')).toBeUndefined();
    expect(await run("'a string directive'")).toEqual({ value: 'a string directive' });
    expect(await run('({ wrapped: true })')).toEqual({ value: { wrapped: true } });
    expect(await run('(1, 2)')).toEqual({ value: 2 });
  });

  it('does not await a returned promise (the value is the promise)', async () => {
    const { run, context } = cells();
    const result = await run('Promise.resolve(3)');
    expect(result?.value).toBeInstanceOf(vm.runInContext('Promise', context) as never);
  });

  it('turns static and dynamic imports into calls of the module loader', async () => {
    const { run, imported } = cells();
    await run(
      "import d, { named as n } from 'pkg-a';\nimport * as ns from 'pkg-b';\nimport 'side-effect';"
    );
    expect(imported).toEqual(['pkg-a', 'pkg-b', 'side-effect']);
    expect(await run('[d, n, ns.named]')).toEqual({
      value: ['default of pkg-a', 'named of pkg-a', 'named of pkg-b']
    });
    expect(await run("(await import('pkg-c')).default")).toEqual({ value: 'default of pkg-c' });
  });

  it('drops export keywords', async () => {
    const { run } = cells();
    await run('export const e = 1;\nexport function g() { return 2; }\nexport { e as eAlias };');
    expect(await run('e + g()')).toEqual({ value: 3 });
  });

  it('keeps every line where it was', () => {
    const code =
      "import x from 'm';\nconst a = 1,\n  b = 2;\nclass C {\n}\nfunction f() {\n  throw new Error();\n}\na";
    const { script } = rewriteCell(code);
    const lines = script.split('\n');
    // Line N of the input is line N + 1 of the script (the header comes first).
    expect(lines.length).toBe(code.split('\n').length + 2);
    expect(lines[7]).toContain('throw new Error()');
    expect(lines[9]).toContain('return { value: (a) }');
  });

  it('reports the declared names', () => {
    const { declared } = rewriteCell(
      "import d from 'm';\nconst { a, b: [c] } = o;\nlet e;\nclass K {}\nfunction f() {}\nvar v;"
    );
    expect(declared.sort((x, y) => (x.name < y.name ? -1 : 1))).toEqual([
      { name: 'K', kind: 'let' },
      { name: 'a', kind: 'const' },
      { name: 'c', kind: 'const' },
      { name: 'd', kind: 'const' },
      { name: 'e', kind: 'let' },
      { name: 'f', kind: 'let' },
      { name: 'v', kind: 'var' }
    ]);
  });
});

describe('top-level bindings', () => {
  it('keep var on the global object, as a script does', async () => {
    const { run, context } = cells();
    await run('var shared = [1];\nfunction push(x) { globalThis.shared.push(x); }\npush(2);');
    expect(vm.runInContext('globalThis.shared', context)).toEqual([1, 2]);
    // Declared again with let, it moves to the script scope.
    await run('let shared = [3];\npush(4);');
    expect(await run('shared')).toEqual({ value: [3] });
  });

  it('live in the script scope, not on the global object, one variable per name across cells', async () => {
    const { run, context } = cells();
    await run('let count = 0;\nfunction next() { return ++count; }\nnext();');
    expect(Object.getOwnPropertyDescriptor(vm.runInContext('globalThis', context), 'count')).toBe(
      undefined
    );
    // A later cell declaring the name again (to reset it) reaches the earlier cell's function.
    await run('let count = 10;');
    expect(await run('next()')).toEqual({ value: 11 });
    expect(await run('count')).toEqual({ value: 11 });
  });

  it('lets a function parameter or inner declaration of a constant name be assigned', async () => {
    const { run } = cells();
    await run('const k = 1;\nconst o = { p: 0 };');
    expect(await run('function f(k) { k = 2; return k; }\nf(0)')).toEqual({ value: 2 });
    expect(await run('{ let k = 3; k++; }\no.p = 4;\n[k, o.p]')).toEqual({ value: [1, 4] });
  });
});

describe('top-level const', () => {
  it('cannot be reassigned, in its cell or in a later one, with the TypeError JavaScript throws', async () => {
    const { run } = cells();
    await expect(run('const zc = 1;\nzc = 2;')).rejects.toThrow('Assignment to constant variable.');
    expect(await run('zc')).toEqual({ value: 1 });
    await expect(run('zc = 3')).rejects.toThrow('Assignment to constant variable.');
    await expect(run('zc++')).rejects.toThrow('Assignment to constant variable.');
    await expect(run('[zc] = [4]')).rejects.toThrow('Assignment to constant variable.');
    // The error is the cells' own TypeError, as a real const's would be.
    const caught = '(() => { try { zc = 5; } catch (e) { return e instanceof TypeError; } })()';
    expect(await run(caught)).toEqual({ value: true });
    expect(await run('zc')).toEqual({ value: 1 });
  });

  it('can be declared again by re-running a cell, also as let or var', async () => {
    const { run } = cells();
    await run('const { a, b: [b] } = { a: 1, b: [2] }, c = 3;');
    await expect(run('b = 0')).rejects.toThrow('Assignment to constant variable.');
    await run('const { a, b: [b] } = { a: 10, b: [20] }, c = 30;');
    expect(await run('[a, b, c]')).toEqual({ value: [10, 20, 30] });
    await run('let a = 100;\nvar b;\nfunction c() { return 3; }');
    await run('a = 101; b = 21;');
    expect(await run('[a, b, c()]')).toEqual({ value: [101, 21, 3] });
    await run('class a {}\na = 1;');
    expect(await run('a')).toEqual({ value: 1 });
  });

  it('makes imports constant too, as in a module', async () => {
    const { run } = cells();
    await run("import d, * as ns from 'pkg';");
    await expect(run('d = 1')).rejects.toThrow('Assignment to constant variable.');
    await run("import d from 'pkg';");
    expect(await run('d')).toEqual({ value: 'default of pkg' });
  });

  it('leaves let, var and class bindings assignable', async () => {
    const { run } = cells();
    await run('let l = 1;\nvar v = 1;\nclass K {}');
    await run('l = 2; v = 2; K = 2;');
    expect(await run('[l, v, K]')).toEqual({ value: [2, 2, 2] });
  });
});

describe('interrupting loops', () => {
  /** Raises the cells' interrupt flag from another thread, as the kernel's socket thread does. */
  async function interruptAfter(flag: Int32Array, ms: number): Promise<Worker> {
    const thread = new Worker(
      `const { workerData } = require('node:worker_threads');
       setTimeout(() => Atomics.add(workerData, 0, 1), ${ms});`,
      { eval: true, workerData: flag }
    );
    await once(thread, 'online');
    return thread;
  }

  // Each loop would end by itself after 5 s, so that a loop the interrupt misses fails the test
  // instead of hanging it.
  const RUNAWAY_SECONDS = 5;
  const runaways: Record<string, string> = {
    while: 'while (more()) {}',
    'do-while with a single statement': 'let n = 0;\ndo n++; while (more());',
    for: 'for (; more(); ) {}',
    'for with continue': 'for (let i = 0; more(); i++) { if (i % 2) continue; }',
    'for-of inside a single-statement for': 'for (; more(); ) for (const x of [1, 2]) x;',
    'for-in': 'const o = { a: 1 };\nfor (; more(); ) for (const k in o) k;',
    'for await': 'async function* g() { while (more()) yield 1; }\nfor await (const v of g()) v;',
    'a labelled loop': 'outer: for (; more(); ) { for (;;) continue outer; }',
    'a function of an earlier cell': 'spin();',
    'a class method': 'new (class { m() { while (more()); } })().m();',
    'an async recursion without a loop':
      'async function again() { await null; if (more()) await again(); }\nawait again();',
    'a chain of promise callbacks':
      'const step = () => (more() ? Promise.resolve().then(step) : undefined);\nawait step();'
  };
  const setup =
    `const until = Date.now() + ${RUNAWAY_SECONDS * 1000};\n` +
    'function more() { return Date.now() < until; }\nfunction spin() { while (more()) {} }';

  for (const [kind, loop] of Object.entries(runaways)) {
    it(`stops ${kind} that starts after an await`, async () => {
      const { run, context } = cells();
      await run(setup);
      const { flag } = (context[KERNEL_HELPER] as CellHelpers).interrupts;
      const thread = await interruptAfter(flag, 100);
      try {
        await expect(run(`await null;\n${loop}`)).rejects.toMatchObject({
          name: 'KeyboardInterrupt'
        });
        expect(Atomics.load(flag, 0)).toBe(0);
      } finally {
        await thread.terminate();
      }
    });
  }

  it('delivers one interrupt once: a loop after catching it runs to its end', async () => {
    const { run, context } = cells();
    await run(setup);
    const { flag } = (context[KERNEL_HELPER] as CellHelpers).interrupts;
    const thread = await interruptAfter(flag, 100);
    try {
      const cell =
        'let caught = "";\ntry { while (more()) {} } catch (error) { caught = error.name; }\n' +
        'let sum = 0;\nfor (let i = 0; i < 1e6; i++) sum += i;\n[caught, sum]';
      expect(await run(cell)).toEqual({ value: ['KeyboardInterrupt', 499999500000] });
    } finally {
      await thread.terminate();
    }
  });

  it('keeps line numbers and what loops compute', async () => {
    const { run } = cells();
    const cell =
      'let total = 0;\nfor (const x of [1, 2, 3]) total += x;\nlet i = 0;\nwhile (i < 4) i++;\n' +
      'do { total += 10; } while (total < 30);\nfor (const k in { a: 1, b: 2 }) { if (k === "a") continue; total += 100; }\n' +
      'const line = new Error().stack.match(/<anonymous>:(\\d+)/)[1];\n[total, i, line]';
    const { script } = rewriteCell(cell);
    expect(script.split('\n').length).toBe(cell.split('\n').length + 2);
    expect(await run(cell)).toEqual({ value: [136, 4, '8'] });
  });
});

describe('interrupt checks at function entry', () => {
  it('keep directives, derived constructors and expression bodies working', async () => {
    const { run } = cells();
    const cell =
      'function strict() { "use strict"; return this; }\n' +
      'class A { constructor(x) { this.x = x; } }\nclass B extends A { constructor() { super(2); } }\n' +
      'const object = () => ({ a: 1 });\nconst pair = x => (x, x + 1);\n' +
      'function* numbers() { yield 1; yield 2; }\n' +
      '[strict(), new B().x, object(), pair(3), [...numbers()]]';
    expect(await run(cell)).toEqual({ value: [undefined, 2, { a: 1 }, 4, [1, 2]] });
  });
});

describe('functions sent elsewhere as source', () => {
  it('still run where the interrupt flag does not exist (a compute unit, a Mini-App processor)', async () => {
    const { run } = cells();
    const { value } = (await run(
      'function meanX(xs) { let s = 0; for (let i = 0; i < xs.length; i++) s += xs[i]; return s / xs.length; }\nmeanX.toString()'
    ))!;
    const elsewhere = new Function(`return (${value as string})`)() as (xs: number[]) => number;
    expect(elsewhere([1, 2, 3])).toBe(2);
  });
});
