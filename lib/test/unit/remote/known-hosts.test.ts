import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  fingerprint,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  patternsMatch,
  verifyHostKey
} from '../../../src/remote/known-hosts.js';

/** A syntactically valid key blob of `type` (random key material). */
function keyBlob(type: string): Buffer {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const material = randomBytes(32);
  const materialLength = Buffer.alloc(4);
  materialLength.writeUInt32BE(material.length);
  return Buffer.concat([length, name, materialLength, material]);
}

function line(patterns: string, blob: Buffer, marker = ''): string {
  return `${marker}${marker ? ' ' : ''}${patterns} ${keyTypeOf(blob)} ${blob.toString('base64')} comment`;
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

describe('known_hosts', () => {
  const ed = keyBlob('ssh-ed25519');
  const otherEd = keyBlob('ssh-ed25519');
  const rsa = keyBlob('ssh-rsa');

  it('writes non-standard ports as [host]:port', () => {
    expect(knownHostsName('login', 22)).toBe('login');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('computes the OpenSSH SHA256 fingerprint (unpadded base64)', () => {
    const expected = createHash('sha256').update(ed).digest('base64').replace(/=+$/, '');
    expect(fingerprint(ed)).toBe(`SHA256:${expected}`);
    expect(fingerprint(ed)).not.toMatch(/=$/);
  });

  it('skips comments, blank and malformed lines, keeping line numbers', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        '',
        'host-only',
        `login ssh-ed25519 !!notbase64`,
        `login ssh-rsa ${ed.toString('base64')}`,
        line('login', ed)
      ].join('\n')
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]?.line).toBe(6);
    expect(entries[0]?.keyType).toBe('ssh-ed25519');
  });

  it('matches plain names, [host]:port, lists and wildcards', () => {
    expect(patternsMatch('login,other', 'login')).toBe(true);
    expect(patternsMatch('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
    expect(patternsMatch('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
    expect(patternsMatch('*.example.org', 'login.example.org')).toBe(true);
    expect(patternsMatch('node?', 'node7')).toBe(true);
    expect(patternsMatch('node?', 'node17')).toBe(false);
    expect(patternsMatch('LOGIN', 'login')).toBe(true);
  });

  it('lets a negated pattern exclude a host a wildcard names', () => {
    expect(patternsMatch('*.example.org,!evil.example.org', 'evil.example.org')).toBe(false);
    expect(patternsMatch('*.example.org,!evil.example.org', 'good.example.org')).toBe(true);
  });

  it('matches hashed entries, also for [host]:port', () => {
    const entries = parseKnownHosts(
      [line(hashed('[10.0.0.5]:2200'), ed), line(hashed('login'), rsa)].join('\n')
    );
    expect(verifyHostKey(entries, '10.0.0.5', 2200, ed).kind).toBe('known');
    expect(verifyHostKey(entries, '10.0.0.5', 22, ed).kind).toBe('unknown');
    expect(verifyHostKey(entries, 'login', 22, rsa).kind).toBe('known');
  });

  it('says unknown for a host it does not hold, with the types it holds for a known one', () => {
    const entries = parseKnownHosts(line('login', rsa));
    expect(verifyHostKey(entries, 'elsewhere', 22, ed)).toEqual({
      kind: 'unknown',
      otherTypes: []
    });
    expect(verifyHostKey(entries, 'login', 22, ed)).toEqual({
      kind: 'unknown',
      otherTypes: ['ssh-rsa']
    });
  });

  it('says changed when the host is known with another key of the same type', () => {
    const entries = parseKnownHosts(line('login', ed));
    const verdict = verifyHostKey(entries, 'login', 22, otherEd);
    expect(verdict.kind).toBe('changed');
    expect(verdict.kind === 'changed' && verdict.entries[0]?.line).toBe(1);
  });

  it('refuses a revoked key even when another line holds it', () => {
    const entries = parseKnownHosts([line('login', ed), line('*', ed, '@revoked')].join('\n'));
    expect(verifyHostKey(entries, 'login', 22, ed).kind).toBe('revoked');
  });

  it('does not take a certificate authority line for a host key', () => {
    const entries = parseKnownHosts(line('login', ed, '@cert-authority'));
    expect(verifyHostKey(entries, 'login', 22, ed).kind).toBe('unknown');
    expect(knownKeyTypes(entries, 'login', 22)).toEqual([]);
  });

  it('lists the key types known for a host', () => {
    const entries = parseKnownHosts(
      [line('login', ed), line('login', rsa), line('other', keyBlob('ecdsa-sha2-nistp256'))].join(
        '\n'
      )
    );
    expect(knownKeyTypes(entries, 'login', 22)).toEqual(['ssh-ed25519', 'ssh-rsa']);
  });
});
