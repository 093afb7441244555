import { describe, expect, it } from 'vitest';
import { parseConfigPairs } from '../../../src/cli/pilot-commands.js';
import { newPilotRecord } from '../../../src/pilot/record.js';
import { age, formatPilotTable } from '../../../src/pilot/pilot-table.js';
import { parsePilotDescription, ValidationError } from '../../../src/protocol/index.js';

describe('pilot table and CLI options', () => {
  it('shows ages in the largest whole unit', () => {
    const now = Date.parse('2026-01-02T00:00:00Z');
    expect(age('2026-01-01T23:59:55Z', now)).toBe('5s');
    expect(age('2026-01-01T23:57:00Z', now)).toBe('3m');
    expect(age('2026-01-01T21:00:00Z', now)).toBe('3h');
    expect(age('2025-12-30T00:00:00Z', now)).toBe('3d');
  });

  it('lines up the columns', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const named = newPilotRecord(
      'pilot-aaaaaaaaaaaa',
      parsePilotDescription({ type: 'kafka', resource: 'fork://localhost', name: 'demo' }),
      new Date('2026-01-01T00:00:00Z')
    );
    const table = formatPilotTable(
      [
        named,
        {
          ...named,
          id: 'pilot-bbbbbbbbbbbb',
          description: { ...named.description, name: undefined },
          state: 'Running'
        }
      ],
      now
    );
    expect(table.split('\n')).toEqual([
      'ID                  NAME  STATE    TYPE   RESOURCE          AGE',
      'pilot-aaaaaaaaaaaa  demo  New      kafka  fork://localhost  1m',
      'pilot-bbbbbbbbbbbb        Running  kafka  fork://localhost  1m'
    ]);
  });

  it('reads --config pairs and names a malformed one', () => {
    expect(parseConfigPairs(['a.b=1', 'c=x=y', 'd='])).toEqual({ 'a.b': '1', c: 'x=y', d: '' });
    expect(() => parseConfigPairs(['=1'])).toThrow(ValidationError);
    expect(() => parseConfigPairs(['nokey'])).toThrow(/--config = "nokey", expected key=value/);
  });
});
