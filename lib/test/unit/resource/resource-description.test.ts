import { describe, expect, it } from 'vitest';
import { parsePilotDescription, ValidationError } from '../../../src/protocol/index.js';
import { adaptorFor } from '../../../src/resource/index.js';

function problemsOf(input: Record<string, unknown>): { key: string; expected: string }[] {
  try {
    parsePilotDescription(input);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('descriptions for ssh://, slurm:// and slurm+ssh:// resources', () => {
  it('accepts the three schemes with their keys', () => {
    const description = parsePilotDescription({
      type: 'kafka',
      resource: 'slurm+ssh://alice@login.example.org:2222',
      numberOfNodes: 3,
      coresPerNode: 8,
      walltimeMinutes: 30,
      queue: 'debug',
      project: 'astro42',
      reservation: 'beamtime',
      schedulerOptions: ['--qos=high', '--constraint=haswell']
    });
    expect(description.numberOfNodes).toBe(3);
    expect(description.schedulerOptions).toEqual(['--qos=high', '--constraint=haswell']);
    expect(
      problemsOf({
        type: 'kafka',
        resource: 'slurm://localhost',
        numberOfNodes: 5
      })
    ).toEqual([]);
    expect(problemsOf({ type: 'kafka', resource: 'ssh://login' })).toEqual([]);
  });

  it.each([
    ['slurm:// on another host', { resource: 'slurm://login' }, 'resource', /slurm:\/\/localhost/],
    ['a password in the URL', { resource: 'ssh://u:secret@login' }, 'resource', /no password/],
    [
      'several nodes on ssh://',
      { resource: 'ssh://login', numberOfNodes: 2 },
      'numberOfNodes',
      /exactly 1 node on ssh/
    ],
    [
      'a reservation on fork://',
      { resource: 'fork://localhost', reservation: 'r' },
      'reservation',
      /slurm:\/\//
    ],
    ['a queue on fork://', { resource: 'fork://localhost', queue: 'debug' }, 'queue', /slurm:\/\//],
    [
      'a project on ssh://',
      { resource: 'ssh://login', project: 'astro42' },
      'project',
      /slurm:\/\//
    ],
    [
      'scheduler options on ssh://',
      { resource: 'ssh://login', schedulerOptions: ['--qos=a'] },
      'schedulerOptions',
      /batch scheduler/
    ],
    [
      'an option without a dash',
      { resource: 'slurm://localhost', schedulerOptions: ['qos=a'] },
      'schedulerOptions.0',
      /sbatch option/
    ],
    [
      'an option with a line break',
      {
        resource: 'slurm://localhost',
        schedulerOptions: ['--qos=a\n#SBATCH -N 99']
      },
      'schedulerOptions.0',
      /one line/
    ],
    ['an unknown scheme', { resource: 'pbs://login' }, 'resource', /slurm\+ssh:\/\//]
  ])('refuses %s, naming the key', (_kind, input, key, expected) => {
    const problems = problemsOf({ type: 'kafka', ...input });
    const problem = problems.find(found => found.key === key);
    expect(problem, JSON.stringify(problems)).toBeDefined();
    expect(problem?.expected).toMatch(expected);
  });

  it('says which key, which value and why for a queue and a project on a single host', () => {
    expect(() =>
      parsePilotDescription({
        type: 'kafka',
        resource: 'ssh://login',
        queue: 'debug',
        project: 'astro42'
      })
    ).toThrow(
      'Invalid pilot description: queue = "debug", expected no queue outside a batch scheduler: it applies to slurm:// and slurm+ssh:// resources; ' +
        'project = "astro42", expected no project outside a batch scheduler: it applies to slurm:// and slurm+ssh:// resources'
    );
  });

  it('has an adaptor for every scheme', () => {
    expect(adaptorFor('ssh://alice@login:2222').scheme).toBe('ssh');
    expect(adaptorFor('slurm://localhost').scheme).toBe('slurm');
    expect(adaptorFor('slurm+ssh://login').scheme).toBe('slurm+ssh');
  });
});
