import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseSshTarget, targetLabel } from '../../../src/remote/target.js';
import { shellCommand, shellCommandIn, shellQuote } from '../../../src/remote/shell-quote.js';

/** What /bin/sh makes of a command line: the words it passes to the program. */
function wordsOf(commandLine: string): string[] {
  const output = execFileSync('sh', ['-c', commandLine], { encoding: 'utf8' });
  return output.split('\0').slice(0, -1);
}

describe('shell quoting', () => {
  it('leaves plain words alone and quotes the rest', () => {
    expect(shellQuote('/opt/pilot/work-1')).toBe('/opt/pilot/work-1');
    expect(shellQuote('a b')).toBe(`'a b'`);
    expect(shellQuote('')).toBe(`''`);
    expect(shellQuote('A=b')).toBe(`'A=b'`);
  });

  it('round-trips hostile words through a real sh', () => {
    const words = [
      `it's`,
      '$(echo injected)',
      '`id`',
      'a\nb',
      '"quoted"',
      '*',
      '; echo no',
      '\\',
      ''
    ];
    const line = shellCommand(['printf', '%s\\0', ...words]);
    expect(wordsOf(line)).toEqual(words);
  });

  it('refuses an empty command and a bad variable name', () => {
    expect(() => shellCommand([])).toThrow(/Empty command/);
    expect(() => shellCommandIn(['true'], { env: { 'A;B': 'x' } })).toThrow(
      /"A;B" is not a valid shell name/
    );
  });

  it('runs in a directory with extra environment', () => {
    const line = shellCommandIn(['sh', '-c', 'printf "%s %s" "$PWD" "$GREETING"'], {
      cwd: '/',
      env: { GREETING: "it's me" }
    });
    expect(execFileSync('sh', ['-c', line], { encoding: 'utf8' })).toBe("/ it's me");
  });
});

describe('ssh targets', () => {
  it('reads user, host and port from a resource URL', () => {
    expect(parseSshTarget('slurm+ssh://alice@login.example.org:2222')).toEqual({
      user: 'alice',
      host: 'login.example.org',
      port: 2222
    });
    expect(parseSshTarget('ssh://[::1]:2200').host).toBe('::1');
    expect(parseSshTarget('ssh://login').port).toBe(22);
  });

  it('labels targets user@host:port', () => {
    expect(targetLabel({ user: 'bob', host: '::1', port: 22 })).toBe('bob@[::1]:22');
  });

  it('refuses URLs without a host and passwords', () => {
    expect(() => parseSshTarget('ssh://')).toThrow(/names no host|not a URL/);
    expect(() => parseSshTarget('ssh://u:secret@host')).toThrow(/holds a password/);
  });

  it('refuses port 0 rather than dialling port 22, and a path it would ignore', () => {
    expect(() => parseSshTarget('ssh://localhost:0')).toThrow(/port 0.*from 1 to 65535/);
    expect(() => parseSshTarget('ssh://localhost:70000')).toThrow(/not a URL/);
    expect(() => parseSshTarget('ssh://login/scratch/me')).toThrow(/path "\/scratch\/me"/);
    expect(parseSshTarget('ssh://login/').host).toBe('login');
  });
});
