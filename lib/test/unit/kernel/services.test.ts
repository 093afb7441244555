import { describe, expect, it, vi } from 'vitest';
import { TO_MIME_BUNDLE, type KernelPlugin, type KernelServices } from '../../../src/kernel/api.js';
import { parseConnectionInfo, endpoint } from '../../../src/kernel/connection.js';
import { isMimeBundle, toMimeBundle } from '../../../src/kernel/display.js';
import {
  complete,
  describeAt,
  codePointsToOffset,
  offsetToCodePoints
} from '../../../src/kernel/executor/introspection.js';
import { queryHistory, type HistoryEntry } from '../../../src/kernel/history.js';
import { kernelspecDir, parseEnvAssignments, kernelJson } from '../../../src/kernel/kernelspec.js';
import { loadPlugins } from '../../../src/kernel/plugin-loading.js';

describe('display bundles', () => {
  it('recognises MIME bundles and wraps other values', () => {
    expect(isMimeBundle({ 'text/html': '<b/>', 'application/vnd.x+json': {} })).toBe(true);
    expect(isMimeBundle({ html: 1 })).toBe(false);
    expect(isMimeBundle({})).toBe(false);
    expect(
      isMimeBundle(
        new (class {
          'text/plain' = 'x';
        })()
      )
    ).toBe(false);
    expect(toMimeBundle([1, 'a'])).toEqual({ 'text/plain': "[ 1, 'a' ]" });
    expect(toMimeBundle({ 'text/markdown': '# hi' })).toEqual({ 'text/markdown': '# hi' });
  });

  it('uses a value’s own bundle', () => {
    const value = { [TO_MIME_BUNDLE]: () => ({ 'image/svg+xml': '<svg/>' }) };
    expect(toMimeBundle(value)['image/svg+xml']).toBe('<svg/>');
    expect(toMimeBundle(value)['text/plain']).toBeTypeOf('string');
    const broken = { [TO_MIME_BUNDLE]: () => 'nope' };
    expect(() => toMimeBundle(broken)).toThrow(/expected an object keyed by MIME types/);
  });
});

describe('connection file', () => {
  const valid = {
    transport: 'tcp',
    ip: '127.0.0.1',
    shell_port: 5001,
    iopub_port: 5002,
    stdin_port: 5003,
    control_port: 5004,
    hb_port: 5005,
    key: 'k',
    signature_scheme: 'hmac-sha256'
  };

  it('parses and builds endpoints', () => {
    const info = parseConnectionInfo(JSON.stringify(valid), 'c.json');
    expect(endpoint(info, 'shell')).toBe('tcp://127.0.0.1:5001');
    expect(() => parseConnectionInfo(JSON.stringify({ ...valid, hb_port: 0 }), 'c.json')).toThrow(
      /"hb_port" has value 0, expected a port number 1..65535/
    );
    expect(endpoint({ ...info, transport: 'ipc', ip: '/run/k' }, 'iopub')).toBe(
      'ipc:///run/k-5002'
    );
  });

  it('names the bad key and value', () => {
    expect(() =>
      parseConnectionInfo(JSON.stringify({ ...valid, shell_port: 'x' }), 'c.json')
    ).toThrow(/key "shell_port" has value "x", expected a port number/);
    expect(() =>
      parseConnectionInfo(JSON.stringify({ ...valid, transport: 'udp' }), 'c.json')
    ).toThrow(/"transport" has value "udp"/);
    expect(() => parseConnectionInfo('{', 'c.json')).toThrow(/c.json is not valid JSON/);
  });
});

describe('history', () => {
  const inputs: HistoryEntry[] = [
    [1, 1, 'a = 1'],
    [1, 2, 'print(a)'],
    [1, 3, 'a = 1'],
    [1, 4, 'b = 2']
  ];
  it('answers tail, range and search', () => {
    expect(queryHistory(inputs, { hist_access_type: 'tail', n: 2 })).toEqual(inputs.slice(2));
    expect(queryHistory(inputs, { hist_access_type: 'tail', n: 0 })).toEqual([]);
    expect(
      queryHistory(inputs, { hist_access_type: 'range', session: 0, start: 2, stop: 4 })
    ).toEqual(inputs.slice(1, 3));
    expect(queryHistory(inputs, { hist_access_type: 'range', session: 7 })).toEqual([]);
    expect(queryHistory(inputs, { hist_access_type: 'search', pattern: 'a =*' })).toHaveLength(2);
    expect(
      queryHistory(inputs, { hist_access_type: 'search', pattern: 'a =*', unique: true })
    ).toEqual([[1, 3, 'a = 1']]);
    expect(() => queryHistory(inputs, { hist_access_type: 'bogus' })).toThrow(/"bogus"/);
  });
});

describe('introspection', () => {
  const globals = { myValue: { alpha: 1, beta: { gamma: 2 } }, myOther: 3 } as Record<
    string,
    unknown
  >;
  it('completes globals, keywords and property chains', () => {
    expect(complete('x = myV', 7, globals)).toEqual({ matches: ['myValue'], start: 4, end: 7 });
    expect(complete('myValue.beta.g', 14, globals).matches).toEqual(['gamma']);
    expect(complete('awa', 3, globals).matches).toContain('await');
    expect(complete('"abc".toUpp', 11, globals).matches).toEqual(['toUpperCase']);
  });
  it('describes the name under the cursor', () => {
    expect(describeAt('myValue.beta', 9, globals)).toContain('gamma: 2');
    expect(describeAt('nothing', 2, globals)).toBeUndefined();
  });
  it('converts between code points and UTF-16 offsets', () => {
    const code = '😀 = x';
    expect(codePointsToOffset(code, 2)).toBe(3);
    expect(offsetToCodePoints(code, 3)).toBe(2);
  });
});

describe('kernelspec', () => {
  it('builds the kernel.json of the contract', () => {
    const spec = kernelJson({ A: 'b' }) as { argv: string[] } & Record<string, unknown>;
    expect(spec.argv[0]).toBe(process.execPath);
    expect(spec.argv[1]).toMatch(/kernel[/\\]main\.js$/);
    expect(spec.argv[2]).toBe('{connection_file}');
    expect(spec).toMatchObject({
      display_name: 'TypeScript (Pilot-Streaming)',
      language: 'typescript',
      interrupt_mode: 'message',
      env: { A: 'b' }
    });
  });
  it('places it under the prefix or the user directory', () => {
    expect(kernelspecDir({ prefix: '/opt/venv' })).toBe(
      '/opt/venv/share/jupyter/kernels/pilot-streaming'
    );
    expect(kernelspecDir({ user: true, name: 'other' })).toMatch(/kernels[/\\]other$/);
    expect(() => kernelspecDir({ prefix: '/x', user: true })).toThrow(/exclude each other/);
    expect(() => kernelspecDir({ name: '../evil' })).toThrow(/--name "..\/evil"/);
  });
  it('parses --env assignments', () => {
    expect(parseEnvAssignments(['A=1', 'B=x=y', 'C='])).toEqual({ A: '1', B: 'x=y', C: '' });
    expect(() => parseEnvAssignments(['NOVALUE'])).toThrow(/--env "NOVALUE": expected KEY=VALUE/);
  });
});

describe('loadPlugins', () => {
  it('loads every plugin and reports failing ones without stopping', async () => {
    const services = { defineGlobal: vi.fn() } as unknown as KernelServices;
    const good: KernelPlugin = kernel => kernel.defineGlobal('good', 1);
    const throwing: KernelPlugin = function throwingPlugin() {
      throw new Error('broken plugin');
    };
    const rejecting = (async () => {
      throw new Error('async broken');
    }) as unknown as KernelPlugin;
    const after: KernelPlugin = kernel => kernel.defineGlobal('after', 2);
    const errors: string[] = [];
    loadPlugins([good, throwing, rejecting, after], services, (name, error) =>
      errors.push(`${name}: ${(error as Error).message}`)
    );
    await new Promise(resolve => setImmediate(resolve));
    expect(services.defineGlobal).toHaveBeenCalledWith('good', 1);
    expect(services.defineGlobal).toHaveBeenCalledWith('after', 2);
    expect(errors).toEqual(['throwingPlugin: broken plugin', 'rejecting: async broken']);
  });
});
