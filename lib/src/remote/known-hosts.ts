import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One usable line of a known_hosts file (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"). */
export interface KnownHostEntry {
  /** 1-based line number, for messages. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Comma-separated patterns as written: names, [name]:port, wildcards, !negations, |1|hashes. */
  patterns: string;
  keyType: string;
  /** The public key blob in SSH wire format (what the server sends). */
  key: Buffer;
}

export type HostKeyVerdict =
  | { kind: 'known'; entry: KnownHostEntry }
  | { kind: 'revoked'; entry: KnownHostEntry }
  /** The host is known with a different key of the same type: possibly an attack. */
  | { kind: 'changed'; entries: KnownHostEntry[] }
  /** No entry for this host and key type (`otherTypes`: key types it is known with). */
  | { kind: 'unknown'; otherTypes: string[] };

/** Lines that are not entries: blank, comments. Malformed lines are skipped as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const name = fields.shift();
      if (name !== '@revoked' && name !== '@cert-authority') return;
      marker = name === '@revoked' ? 'revoked' : 'cert-authority';
    }
    const [patterns, keyType, base64] = fields;
    if (patterns === undefined || keyType === undefined || base64 === undefined) return;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), patterns, keyType, key });
  });
  return entries;
}

/** The algorithm name at the start of an SSH public key blob, or undefined if malformed. */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** OpenSSH's fingerprint of a key blob: "SHA256:" and unpadded base64 of its SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** How known_hosts writes a host: bare on port 22, "[host]:port" otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .split('')
    .map(char =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&')
    )
    .join('');
  return new RegExp(`^${regex}$`, 'i').test(name);
}

function hashedMatches(pattern: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const [, kind, salt, hash] = pattern.split('|');
  if (kind !== '1' || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether a comma-separated pattern list names `name` (a negated match excludes it). */
export function patternsMatch(patterns: string, name: string): boolean {
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('|')) {
      if (hashedMatches(pattern, name)) matched = true;
    } else if (pattern.startsWith('!')) {
      if (wildcardMatches(pattern.slice(1), name)) return false;
    } else if (wildcardMatches(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * What known_hosts says about the key `offered` by `host`:`port`. Certificate authorities are
 * not supported: their lines never vouch for a plain host key.
 */
export function verifyHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  offered: Buffer
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const forHost = entries.filter(entry => patternsMatch(entry.patterns, name));
  const revoked = forHost.find(entry => entry.marker === 'revoked' && entry.key.equals(offered));
  if (revoked !== undefined) return { kind: 'revoked', entry: revoked };
  const plain = forHost.filter(entry => entry.marker === undefined);
  const known = plain.find(entry => entry.key.equals(offered));
  if (known !== undefined) return { kind: 'known', entry: known };
  const type = keyTypeOf(offered);
  const sameType = plain.filter(entry => entry.keyType === type);
  if (sameType.length > 0) return { kind: 'changed', entries: sameType };
  return { kind: 'unknown', otherTypes: [...new Set(plain.map(entry => entry.keyType))] };
}

/** Key types known for a host, to ask the server for those first (as OpenSSH does). */
export function knownKeyTypes(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number
): string[] {
  const name = knownHostsName(host, port);
  return [
    ...new Set(
      entries
        .filter(entry => entry.marker === undefined && patternsMatch(entry.patterns, name))
        .map(entry => entry.keyType)
    )
  ];
}
