import { describe, expect, it } from 'vitest';
import {
  checkNewPilotForm,
  descriptionFromForm,
  EMPTY_FORM,
  parseConfiguration
} from '../src/pilots/new-pilot-form';

const form = (values: Partial<typeof EMPTY_FORM>) => ({ ...EMPTY_FORM, ...values });

describe('descriptionFromForm', () => {
  it('trims the fields and leaves out an empty name', () => {
    expect(
      descriptionFromForm(form({ type: ' kafka ', resource: ' fork://localhost ', name: '  ' }))
    ).toEqual({
      type: 'kafka',
      resource: 'fork://localhost'
    });
  });

  it('keeps a name that was typed', () => {
    expect(
      descriptionFromForm(form({ type: 'kafka', resource: 'fork://localhost', name: 'demo run' }))
    ).toEqual({
      type: 'kafka',
      resource: 'fork://localhost',
      name: 'demo run'
    });
  });
});

describe('checkNewPilotForm', () => {
  it('accepts the default form', () => {
    expect(
      checkNewPilotForm(form({ type: 'kafka', resource: 'fork://localhost', name: '' }))
    ).toEqual({
      ok: true,
      description: { type: 'kafka', resource: 'fork://localhost' }
    });
  });

  it('names each bad field with its value and what is expected', () => {
    const check = checkNewPilotForm(
      form({ type: 'storm', resource: 'ftp://cluster', name: 'a/b' })
    );
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
    const check = checkNewPilotForm(form({ type: 'kafka', resource: '   ', name: '' }));
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.length).toBeGreaterThan(0);
    expect(check.problems.every(p => p.key === 'resource' && p.value === '')).toBe(true);
  });

  it('rejects fork:// on another host', () => {
    const check = checkNewPilotForm(form({ type: 'kafka', resource: 'fork://hpc01', name: '' }));
    expect(check).toMatchObject({
      ok: false,
      problems: [{ key: 'resource', value: 'fork://hpc01' }]
    });
  });
});

describe("the form's per-framework fields", () => {
  it('sends nodes, wall time, cores, parent and configuration when typed, as numbers where numeric', () => {
    expect(
      descriptionFromForm(
        form({
          type: 'flink',
          resource: 'slurm+ssh://ada@hpc01',
          nodes: ' 3 ',
          walltime: '30',
          cores: '4',
          parent: ' pilot-0123456789ab ',
          configuration:
            '# tuned for the demo\ntable.exec.resource.default-parallelism = 6\n\ntaskmanager.memory.process.size=2g\npipeline.object-reuse = true'
        })
      )
    ).toEqual({
      type: 'flink',
      resource: 'slurm+ssh://ada@hpc01',
      numberOfNodes: 3,
      walltimeMinutes: 30,
      coresPerNode: 4,
      parent: 'pilot-0123456789ab',
      configuration: {
        'table.exec.resource.default-parallelism': 6,
        'taskmanager.memory.process.size': '2g',
        'pipeline.object-reuse': true
      }
    });
  });

  it('names a configuration line that is not "key = value", and a field that is not a number', () => {
    expect(parseConfiguration('a.b = 1\njust words\n= 3').problems).toEqual([
      {
        key: 'configuration line 2',
        value: 'just words',
        expected: expect.stringContaining('key = value')
      },
      {
        key: 'configuration line 3',
        value: '= 3',
        expected: expect.stringContaining('key = value')
      }
    ]);
    const check = checkNewPilotForm(form({ nodes: 'three', configuration: 'oops' }));
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problems.map(problem => [problem.key, problem.value])).toEqual(
      expect.arrayContaining([
        ['configuration line 1', 'oops'],
        ['numberOfNodes', 'three']
      ])
    );
  });

  it('refuses several nodes on fork:// as the library does', () => {
    expect(checkNewPilotForm(form({ nodes: '2' }))).toMatchObject({
      ok: false,
      problems: [{ key: 'numberOfNodes', value: 2 }]
    });
  });
});
