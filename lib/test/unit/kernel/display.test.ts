import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { plainText } from '../../../src/kernel/display.js';

describe('plainText', () => {
  it('shows a promise made under an AsyncLocalStorage without the store or async ids', async () => {
    const storage = new AsyncLocalStorage<{ header: string }>();
    const pending = storage.run({ header: 'request-header' }, () => new Promise(() => {}));
    const settled = storage.run({ header: 'request-header' }, () => Promise.resolve(42));
    await settled;

    expect(plainText(pending)).toBe('Promise { <pending> }');
    expect(plainText(settled)).toBe('Promise { 42 }');
    // The store still travels with the promise's continuations.
    const seen = await storage.run({ header: 'second' }, () =>
      Promise.resolve().then(() => storage.getStore()?.header)
    );
    expect(seen).toBe('second');
  });
});
