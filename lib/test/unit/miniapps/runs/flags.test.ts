import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import {
  parseMasaFlags,
  parseMassFlags,
  parseRateFlag
} from '../../../../src/miniapps/runs/flags.js';

/** Command-line words, split at spaces. */
const words = (text: string) => text.split(' ');

describe('parseRateFlag', () => {
  it('reads every short form', () => {
    expect(parseRateFlag('10')).toBe(10);
    expect(parseRateFlag(' 2.5 ')).toBe(2.5);
    expect(parseRateFlag('unlimited')).toBe('unlimited');
    expect(parseRateFlag('ramp:10:100:30')).toEqual({ kind: 'ramp', from: 10, to: 100, over: 30 });
    expect(parseRateFlag('step:0=10,30=50')).toEqual({
      kind: 'step',
      steps: [
        { at: 0, rate: 10 },
        { at: 30, rate: 50 }
      ]
    });
    expect(parseRateFlag('sine:50:20:10')).toEqual({
      kind: 'sine',
      mean: 50,
      amplitude: 20,
      period: 10
    });
    expect(parseRateFlag('burst:10:100:2:10')).toEqual({
      kind: 'burst',
      base: 10,
      burst: 100,
      length: 2,
      every: 10
    });
    expect(parseRateFlag('bytes:1000')).toEqual({ kind: 'bytes', bytesPerSecond: 1000 });
  });

  it('passes a JSON profile through', () => {
    expect(parseRateFlag('{"kind":"fixed","rate":5}')).toEqual({ kind: 'fixed', rate: 5 });
    expect(parseRateFlag(' {"kind":"function","source":"t => 10 + t"}')).toEqual({
      kind: 'function',
      source: 't => 10 + t'
    });
  });

  it('refuses a short form with the wrong number of fields, naming the form expected', () => {
    const cases: [string, string][] = [
      ['ramp:10:100', '--rate "ramp:10:100": expected ramp:FROM:TO:SECONDS'],
      ['ramp:10:100:30:5', 'expected ramp:FROM:TO:SECONDS'],
      ['sine:50:20', '--rate "sine:50:20": expected sine:MEAN:AMPLITUDE:PERIOD'],
      ['burst:10:100:2', '--rate "burst:10:100:2": expected burst:BASE:BURST:LENGTH:EVERY'],
      ['bytes:1:2', '--rate "bytes:1:2": expected bytes:BYTES_PER_S'],
      ['step:0=10,30', '--rate step:0=10,30: expected step:T=RATE,T=RATE… (seconds=msg/s)'],
      ['step:', 'expected step:T=RATE']
    ];
    for (const [text, message] of cases) {
      expect(() => parseRateFlag(text), text).toThrow(MiniAppInputError);
      expect(() => parseRateFlag(text), text).toThrow(message);
    }
  });

  it('refuses fields that are not numbers, naming the field', () => {
    const cases: [string, string][] = [
      ['fast', '--rate "fast": expected a number'],
      ['', '--rate "": expected a number'],
      ['ramp:10:x:30', '--rate (to) "x": expected a number'],
      ['ramp:10::30', '--rate (to) "": expected a number'],
      ['sine:50:20:never', '--rate (period) "never": expected a number'],
      ['burst:a:100:2:10', '--rate (base) "a": expected a number'],
      ['bytes:lots', '--rate (bytes_per_s) "lots": expected a number'],
      ['step:x=1', '--rate (step time) "x": expected a number'],
      ['step:0=fast', '--rate (step rate) "fast": expected a number']
    ];
    for (const [text, message] of cases) {
      expect(() => parseRateFlag(text), text).toThrow(MiniAppInputError);
      expect(() => parseRateFlag(text), text).toThrow(message);
    }
  });

  it('refuses a profile that is not JSON, with the parser’s reason', () => {
    expect(() => parseRateFlag('{kind: fixed}')).toThrow(MiniAppInputError);
    expect(() => parseRateFlag('{kind: fixed}')).toThrow(
      /^--rate \{kind: fixed\}: not JSON \(.+\)$/
    );
  });
});

describe('parseMassFlags', () => {
  it('leaves out what was not given, so the defaults apply', () => {
    expect(parseMassFlags([])).toEqual({
      options: { source: { kind: 'cluster' } },
      values: {},
      positionals: []
    });
  });

  it('turns every flag into its option', () => {
    const { options } = parseMassFlags(
      words(
        '--source static --clusters 4 --points 100 --dimensions 2 --seed 7 --rate ramp:1:10:5 ' +
          '--producers 3 --messages 300 --duration 60 --topic points --partitions 6 --unit-cores 0'
      )
    );
    expect(options).toEqual({
      source: { kind: 'static', clusters: 4, pointsPerMessage: 100, dimensions: 2, seed: 7 },
      rate: { kind: 'ramp', from: 1, to: 10, over: 5 },
      producers: 3,
      messages: 300,
      duration: 60,
      topic: 'points',
      partitions: 6,
      unitCores: 0
    });
    expect(
      parseMassFlags(
        words('--source lightsource --file a.h5 --slices-per-message 2 --center 296.5')
      ).options.source
    ).toEqual({ kind: 'lightsource', file: 'a.h5', slicesPerMessage: 2, rotationCenter: 296.5 });
  });

  it('gives a bytes/s rate the message size of --size', () => {
    const { options } = parseMassFlags(
      words('--source synthetic-bytes --size 1000 --rate bytes:5000')
    );
    expect(options.source).toEqual({ kind: 'synthetic-bytes', size: 1000 });
    expect(options.rate).toEqual({ kind: 'bytes', bytesPerSecond: 5000, messageBytes: 1000 });
  });

  it('refuses a bytes/s rate without --size', () => {
    expect(() => parseMassFlags(['--rate', 'bytes:5000'])).toThrow(MiniAppInputError);
    expect(() => parseMassFlags(['--rate', 'bytes:5000'])).toThrow('--rate bytes:… needs --size');
  });

  it('refuses a number flag that is not a number, naming it', () => {
    expect(() => parseMassFlags(['--points', 'many'])).toThrow(
      '--points "many": expected a number'
    );
    expect(() => parseMassFlags(['--producers', ' '])).toThrow(
      '--producers " ": expected a number'
    );
  });

  it('refuses an unknown flag, naming it', () => {
    expect(() => parseMassFlags(['--colour', 'red'])).toThrow(MiniAppInputError);
    expect(() => parseMassFlags(['--colour', 'red'])).toThrow("Unknown option '--colour'");
  });

  it('passes the caller’s own flags and the positionals through', () => {
    const { options, values, positionals } = parseMassFlags(
      ['start', '--json', '--pilot', 'p1', '--rate', '5', 'extra'],
      { json: { type: 'boolean' }, pilot: { type: 'string' } }
    );
    expect(options).toEqual({ source: { kind: 'cluster' }, rate: 5 });
    expect(values).toMatchObject({ json: true, pilot: 'p1' });
    expect(positionals).toEqual(['start', 'extra']);
  });
});

describe('parseMasaFlags', () => {
  it('needs --topic and leaves out what was not given', () => {
    expect(() => parseMasaFlags([])).toThrow(MiniAppInputError);
    expect(() => parseMasaFlags(['--processor', 'count'])).toThrow('--topic is missing');
    expect(parseMasaFlags(['--topic', 'points']).options).toEqual({
      topic: 'points',
      processor: { kind: 'kmeans' }
    });
  });

  it('turns every flag into its option', () => {
    const kmeans = parseMasaFlags(
      words(
        '--topic points --k 5 --decay 0.5 --half-life 3 --time-unit points --seed 9 ' +
          '--consumers 2 --group g1 --until drained --duration 30 --messages 1000 --partitions 4 ' +
          '--unit-cores 0'
      )
    ).options;
    expect(kmeans).toEqual({
      topic: 'points',
      processor: {
        kind: 'kmeans',
        k: 5,
        decayFactor: 0.5,
        halfLife: 3,
        timeUnit: 'points',
        seed: 9
      },
      consumers: 2,
      groupId: 'g1',
      until: 'drained',
      duration: 30,
      messages: 1000,
      partitions: 4,
      unitCores: 0
    });
    const recon = parseMasaFlags(
      words('--topic tomo --processor sirt --filter hann --iterations 20 --output /tmp/out')
    ).options;
    expect(recon.processor).toEqual({
      kind: 'sirt',
      filter: 'hann',
      iterations: 20,
      output: '/tmp/out'
    });
  });

  it('--no-clip turns clipping off and --latest reads from the end', () => {
    const { options } = parseMasaFlags([
      '--topic',
      't',
      '--processor',
      'fbp',
      '--no-clip',
      '--latest'
    ]);
    expect(options.processor).toEqual({ kind: 'fbp', clipNegative: false });
    expect(options.fromBeginning).toBe(false);
  });

  it('--center takes auto, message or a number of pixels', () => {
    const center = (text: string) =>
      (
        parseMasaFlags(['--topic', 't', '--processor', 'gridrec', '--center', text]).options
          .processor as { center?: unknown }
      ).center;
    expect(center('auto')).toBe('auto');
    expect(center('message')).toBe('message');
    expect(center('296.5')).toBe(296.5);
    expect(() => center('middle')).toThrow('--center "middle": expected a number');
  });

  it('refuses an unknown flag, naming it', () => {
    expect(() => parseMasaFlags(['--topic', 't', '--bogus'])).toThrow(MiniAppInputError);
    expect(() => parseMasaFlags(['--topic', 't', '--bogus'])).toThrow("Unknown option '--bogus'");
  });

  it('passes the caller’s own flags and the positionals through', () => {
    const { values, positionals } = parseMasaFlags(['--topic', 't', '--json', 'now'], {
      json: { type: 'boolean' }
    });
    expect(values).toEqual({ topic: 't', json: true });
    expect(positionals).toEqual(['now']);
  });
});
