import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LibraryDeclarations } from '../../../src/kernel/executor/declarations.js';
import { complete, describeAt } from '../../../src/kernel/executor/introspection.js';
import {
  CellScope,
  KERNEL_HELPER,
  cellHelpers,
  declareInterruptBindings,
  rewriteCell
} from '../../../src/kernel/executor/rewrite.js';
import { cellNamespace } from '../../../src/kernel/executor/namespace.js';
import { transpileCell } from '../../../src/kernel/executor/transpile.js';

/** What tsc writes for a class with TypeScript-private members and ES private fields. */
const SERVICE_DTS = `import type { Thing } from './thing.js';
/** Makes things. */
export declare class ThingService {
    #private;
    readonly home: string;
    private readonly cache;
    private counter;
    /**
     * Creates a thing.
     * @param name what it is called
     */
    createThing(name: string, options?: {
        size?: number;
    }): Promise<Thing>;
    private lookUp;
    protected shared(): void;
}
/** Lists the things in \`dir\`. */
export declare function listThings(dir: string): Promise<Thing[]>;
`;

class ThingService {
  readonly home = '/h';
  private readonly cache = new Map();
  private counter = 0;
  async createThing(name: string) {
    this.counter += 1;
    return { name, cache: this.cache };
  }
  private lookUp() {
    return this.cache;
  }
  protected shared() {}
}

async function listThings(dir: string) {
  return [dir];
}

describe('completion and inspection', () => {
  let root: string;
  let library: LibraryDeclarations;
  const context = vm.createContext({});
  const globals = vm.runInContext('globalThis', context) as Record<string, unknown>;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ps-declarations-'));
    await mkdir(path.join(root, 'things'));
    await writeFile(path.join(root, 'things', 'service.d.ts'), SERVICE_DTS);
    library = new LibraryDeclarations(root);
    vm.runInContext(
      'var numbers = [1, 2]; var promise = Promise.resolve(1); var calls = 0;' +
        'var counted = { get now() { calls += 1; return 1; } }; var _hidden = 1;',
      context
    );
    globals.things = new ThingService();
    globals.listThings = listThings;
  });
  afterAll(async () => {
    await rm(root, { recursive: true });
  });

  const completeAt = (code: string) => complete(code, code.length, globals, library).matches;

  it('hides TypeScript-private members (as the library .d.ts declares them) and _names', () => {
    const members = completeAt('things.');
    expect(members).toEqual(expect.arrayContaining(['createThing', 'home']));
    for (const hidden of ['cache', 'counter', 'lookUp', 'shared']) {
      expect(members).not.toContain(hidden);
    }
    expect(completeAt('_h')).toEqual(['_hidden']);
    expect(completeAt('_')).toContain('_hidden');
    expect(completeAt('')).not.toContain('_hidden');
  });

  it('completes members of a literal or of a value, never the globals after a dot', () => {
    expect(completeAt('[1,2].ma')).toEqual(['map']);
    expect(completeAt('const x = [1, [2]].fl')).toEqual(['flat', 'flatMap']);
    expect(completeAt("'abc'.toUpp")).toEqual(['toUpperCase']);
    expect(completeAt('numbers.at(0).')).toEqual([]);
    expect(completeAt('promise.')).toEqual(['catch', 'finally', 'then']);
    expect(completeAt('Promise.resolve(1).')).toEqual([]);
    expect(completeAt('numbers[0].toFix')).toEqual(['toFixed']);
    expect(completeAt('new Map().ha')).toEqual(['has']);
    expect(completeAt('(numbers).len')).toEqual(['length']);
  });

  it('never calls code to complete (getters aside, calls are not evaluated)', () => {
    completeAt('listThings("x").');
    completeAt('[counted.now, f()].');
    expect(globals.calls).toBe(0);
  });

  it('shows a library method with its declared signature and doc comment', () => {
    const text = describeAt('things.createThing', 8, globals, library)!;
    expect(text).toContain('createThing(name: string, options?: {');
    expect(text).toContain('}): Promise<Thing>;');
    expect(text).toContain('Creates a thing.');
    expect(text).toContain('@param name what it is called');
    const fn = describeAt('listThings', 3, globals, library)!;
    expect(fn).toContain('listThings(dir: string): Promise<Thing[]>');
    expect(fn).toContain('Lists the things in `dir`.');
  });

  it('shows a function without declaration by its parameter list, not its first line', () => {
    vm.runInContext(
      'function plain(\n  a,\n  { b, c } = {},\n  ...rest\n) {\n  return a;\n}',
      context
    );
    const text = describeAt('plain', 2, globals, library)!;
    expect(text).toContain('function plain(\n  a,\n  { b, c } = {},\n  ...rest\n)');
    expect(text).not.toContain('return a');
  });

  it('shows what a cell declared: the TypeScript signature and the doc comment', async () => {
    context[KERNEL_HELPER] = cellHelpers(globals);
    declareInterruptBindings(context);
    const source = [
      '/**',
      ' * Scales a value.',
      ' * @param factor how much',
      ' */',
      'export function scale<T extends { v: number }>(item: T, factor = 2): T {',
      '  return { ...item, v: item.v * factor };',
      '}',
      '/** Adds. */',
      'const add = (a: number, b: number): number => a + b;',
      'class Box<T> implements Iterable<T> { constructor(readonly items: T[]) {} *[Symbol.iterator]() {} }'
    ].join('\n');
    const transpiled = await transpileCell(source, '<cell-1>');
    const scope = new CellScope();
    const { script, declared } = rewriteCell(
      transpiled.code,
      { source, map: transpiled.map },
      scope
    );
    await vm.runInContext(script, context);
    scope.record(declared);
    // The cells' bindings live in the context's script scope, where the kernel's namespace finds them.
    const names = cellNamespace(globals, scope, context);
    const scale = describeAt('scale', 5, names, library)!;
    expect(scale).toBe(
      'scale: function\n' +
        'function scale<T extends { v: number }>(item: T, factor = 2): T\n\n' +
        'Scales a value.\n@param factor how much'
    );
    expect(describeAt('add', 1, names, library)).toBe(
      'add: function\nconst add = (a: number, b: number): number\n\nAdds.'
    );
    expect(describeAt('Box', 1, names, library)).toBe(
      'Box: function\nclass Box<T> implements Iterable<T>'
    );
  });
});
