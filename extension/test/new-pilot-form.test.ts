import { describe, expect, it } from 'vitest';
import { checkNewPilotForm, descriptionFromForm } from '../src/pilots/new-pilot-form';

describe('descriptionFromForm', () => {
  it('trims the fields and leaves out an empty name', () => {
    expect(
      descriptionFromForm({ type: ' kafka ', resource: ' fork://localhost ', name: '  ' })
    ).toEqual({
      type: 'kafka',
      resource: 'fork://localhost'
    });
  });

  it('keeps a name that was typed', () => {
    expect(
      descriptionFromForm({ type: 'kafka', resource: 'fork://localhost', name: 'demo run' })
    ).toEqual({
      type: 'kafka',
      resource: 'fork://localhost',
      name: 'demo run'
    });
  });
});

describe('checkNewPilotForm', () => {
  it('accepts the default form', () => {
    expect(checkNewPilotForm({ type: 'kafka', resource: 'fork://localhost', name: '' })).toEqual({
      ok: true,
      description: { type: 'kafka', resource: 'fork://localhost' }
    });
  });

  it('names each bad field with its value and what is expected', () => {
    const check = checkNewPilotForm({ type: 'storm', resource: 'ftp://cluster', name: 'a/b' });
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.map(p => [p.key, p.value])).toEqual(
      expect.arrayContaining([
        ['type', 'storm'],
        ['resource', 'ftp://cluster'],
        ['name', 'a/b']
      ])
    );
    expect(check.problems.find(p => p.key === 'type')?.expected).toContain('"kafka"');
    expect(check.problems.find(p => p.key === 'resource')?.expected).toContain('fork://');
  });

  it('rejects an empty resource', () => {
    const check = checkNewPilotForm({ type: 'kafka', resource: '   ', name: '' });
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.length).toBeGreaterThan(0);
    expect(check.problems.every(p => p.key === 'resource' && p.value === '')).toBe(true);
  });

  it('rejects fork:// on another host', () => {
    const check = checkNewPilotForm({ type: 'kafka', resource: 'fork://hpc01', name: '' });
    expect(check).toMatchObject({
      ok: false,
      problems: [{ key: 'resource', value: 'fork://hpc01' }]
    });
  });
});
