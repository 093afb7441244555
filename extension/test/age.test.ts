import { describe, expect, it } from 'vitest';
import { formatAge } from '../src/pilots/age';

const created = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => Date.parse(created) + seconds * 1000;

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [60, '1m 00s'],
    [185, '3m 05s'],
    [3599, '59m 59s'],
    [3600, '1h 00m'],
    [7800, '2h 10m'],
    [86_399, '23h 59m'],
    [86_400, '1d 0h'],
    [4 * 86_400 + 3 * 3600 + 59, '4d 3h']
  ])('%i s old reads "%s"', (seconds, expected) => {
    expect(formatAge(created, at(seconds))).toBe(expected);
  });

  it('reads a creation time in the future (clock skew) as 0s', () => {
    expect(formatAge(created, at(-30))).toBe('0s');
  });

  it('shows "?" for an unreadable time', () => {
    expect(formatAge('yesterday', at(0))).toBe('?');
  });
});
