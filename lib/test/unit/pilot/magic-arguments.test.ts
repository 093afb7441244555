import { describe, expect, it } from 'vitest';
import {
  parsePilotMagic,
  PilotMagicUsageError,
  splitArguments
} from '../../../src/pilot/magic-arguments.js';
import {
  parsePilotDescription,
  ValidationError,
  type PilotDescriptionInput
} from '../../../src/protocol/index.js';

describe('%pilot argument parsing', () => {
  it('splits words with quotes and escapes', () => {
    expect(splitArguments(`create kafka  --name 'my pilot' --config "a=b c" x\\ y`)).toEqual([
      'create',
      'kafka',
      '--name',
      'my pilot',
      '--config',
      'a=b c',
      'x y'
    ]);
    expect(splitArguments(`--name ""`)).toEqual(['--name', '']);
    expect(() => splitArguments(`--name 'open`)).toThrow(/unclosed ' quote/);
  });

  it('parses create with all options', () => {
    expect(
      parsePilotMagic(
        'create kafka --resource fork://localhost --name demo --config num.partitions=3 --config pilot.heap=1g --walltime 30 --wait --timeout 90'
      )
    ).toEqual({
      kind: 'create',
      input: {
        type: 'kafka',
        resource: 'fork://localhost',
        name: 'demo',
        walltimeMinutes: 30,
        configuration: { 'num.partitions': '3', 'pilot.heap': '1g' }
      },
      wait: true,
      timeoutMs: 90_000
    });
  });

  it('passes --queue, --project and --reservation to the description, which refuses them off a batch scheduler', () => {
    const command = parsePilotMagic(
      'create kafka --resource slurm://localhost --queue debug --project astro42 --reservation beamtime'
    );
    expect(command).toMatchObject({
      input: { queue: 'debug', project: 'astro42', reservation: 'beamtime' }
    });
    expect(
      parsePilotDescription((command as { input: PilotDescriptionInput }).input)
    ).toMatchObject({ queue: 'debug', project: 'astro42', reservation: 'beamtime' });
    const onFork = parsePilotMagic('create kafka --resource fork://localhost --queue debug');
    expect(() => parsePilotDescription((onFork as { input: PilotDescriptionInput }).input)).toThrow(
      'queue = "debug", expected no queue outside a batch scheduler: it applies to slurm:// and slurm+ssh:// resources'
    );
  });

  it('does not wait unless asked', () => {
    const command = parsePilotMagic('create kafka --resource fork://localhost');
    expect(command).toMatchObject({ kind: 'create', wait: false });
    expect(command).not.toHaveProperty('timeoutMs');
  });

  it('passes --nodes, --cores and --parent to the description, numbers as numbers', () => {
    const command = parsePilotMagic(
      'create flink --resource slurm://localhost --nodes 2 --cores 4 --parent pilot-0123456789ab'
    );
    expect(command).toMatchObject({
      input: { type: 'flink', numberOfNodes: 2, coresPerNode: 4, parent: 'pilot-0123456789ab' }
    });
    expect(
      parsePilotDescription((command as { input: PilotDescriptionInput }).input)
    ).toMatchObject({ numberOfNodes: 2, coresPerNode: 4, parent: 'pilot-0123456789ab' });
    const many = parsePilotMagic('create flink --resource fork://localhost --nodes many');
    expect(() => parsePilotDescription((many as { input: PilotDescriptionInput }).input)).toThrow(
      /numberOfNodes = "many"/
    );
  });

  it('keeps a non-numeric walltime as text so the schema names it', () => {
    expect(parsePilotMagic('create kafka --walltime soon')).toMatchObject({
      input: { walltimeMinutes: 'soon' }
    });
  });

  it('reads any decimal or exponent notation as a number, so the schema checks its range', () => {
    expect(parsePilotMagic('create kafka --walltime 1e9')).toMatchObject({
      input: { walltimeMinutes: 1e9 }
    });
    expect(parsePilotMagic('create kafka --walltime 90.5')).toMatchObject({
      input: { walltimeMinutes: 90.5 }
    });
    expect(parsePilotMagic("create kafka --walltime ' '")).toMatchObject({
      input: { walltimeMinutes: ' ' }
    });
  });

  it('parses list, show, cancel and help', () => {
    expect(parsePilotMagic('list')).toEqual({ kind: 'list' });
    expect(parsePilotMagic('  show pilot-0123456789ab ')).toEqual({
      kind: 'show',
      id: 'pilot-0123456789ab'
    });
    expect(parsePilotMagic('cancel pilot-0123456789ab')).toEqual({
      kind: 'cancel',
      id: 'pilot-0123456789ab'
    });
    expect(parsePilotMagic('')).toEqual({ kind: 'help' });
    expect(parsePilotMagic('help')).toEqual({ kind: 'help' });
  });

  it('names what is wrong and shows the usage', () => {
    const cases: [string, RegExp][] = [
      ['launch kafka', /unknown command "launch"/],
      ['create', /exactly one framework type.*got none/],
      ['create kafka dask', /exactly one framework type.*got kafka dask/],
      ['create kafka --resources fork://localhost', /create: .*--resources/],
      ['cancel', /exactly one pilot id, got none/],
      ['show a b', /exactly one pilot id, got a b/],
      ['list --all', /list: .*--all|list takes no options/],
      ['list extra', /list takes no arguments, got extra/]
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parsePilotMagic(text);
      } catch (caught) {
        error = caught;
      }
      expect(error, text).toBeInstanceOf(PilotMagicUsageError);
      expect((error as Error).message, text).toMatch(message);
      expect((error as Error).message, text).toContain('%pilot create <type>');
    }
  });

  it('rejects malformed --config and --timeout values naming them', () => {
    expect(() => parsePilotMagic('create kafka --config novalue')).toThrow(ValidationError);
    expect(() => parsePilotMagic('create kafka --config novalue')).toThrow(
      /--config = "novalue", expected key=value/
    );
    expect(() => parsePilotMagic('create kafka --timeout 0')).toThrow(/--timeout = "0"/);
  });
});
