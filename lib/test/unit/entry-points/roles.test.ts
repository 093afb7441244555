import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ENTRY_MODULES,
  entryArguments,
  isEntryRole,
  markBundle,
  workerEntry
} from '../../../src/entry-points/roles.js';

describe('entry points', () => {
  afterEach(() => markBundle(undefined));

  it('runs each role from its compiled module of dist/', () => {
    for (const [role, module] of Object.entries(ENTRY_MODULES)) {
      const [path, ...rest] = entryArguments(role as keyof typeof ENTRY_MODULES);
      expect(path).toMatch(new RegExp(`[/\\\\]dist[/\\\\]${module.replace(/\./g, '\\.')}$`));
      expect(existsSync(path!)).toBe(true);
      expect(rest).toEqual([]);
    }
  });

  it('runs every role from the bundle, with the role as first argument, once marked', () => {
    markBundle('/opt/cache/library/0123/pilot-streaming.mjs');
    expect(entryArguments('agent')).toEqual([
      '/opt/cache/library/0123/pilot-streaming.mjs',
      'agent'
    ]);
    expect(workerEntry('slice-worker')).toEqual({
      script: '/opt/cache/library/0123/pilot-streaming.mjs',
      argv: ['slice-worker']
    });
    markBundle(undefined);
    expect(workerEntry('slice-worker').argv).toEqual([]);
  });

  it('knows its roles and nothing else', () => {
    expect(isEntryRole('supervisor')).toBe(true);
    expect(isEntryRole('toString')).toBe(false);
    expect(isEntryRole('')).toBe(false);
  });
});
