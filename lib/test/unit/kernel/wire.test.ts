import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DELIMITER,
  InvalidSignatureError,
  MalformedMessageError,
  MessageSigner,
  createHeader,
  decodeMessage,
  encodeMessage
} from '../../../src/kernel/wire.js';

const KEY = 'a3f1c0de-test-key';

/** The frames as they arrive: what zeromq sends of each (text as UTF-8). */
function frames(signer: MessageSigner, content: object = { code: '1 + 1' }): Buffer[] {
  return sent(signer, content).map(frame =>
    typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame
  );
}

function sent(signer: MessageSigner, content: object) {
  return encodeMessage(
    {
      identities: [Buffer.from('client-identity')],
      header: createHeader('execute_request', 'session-1'),
      parent_header: {},
      metadata: {},
      content,
      buffers: [Buffer.from([1, 2, 3])]
    },
    signer
  );
}

describe('MessageSigner', () => {
  it('signs with HMAC-SHA256 over the four frames, like jupyter_client', () => {
    const signer = new MessageSigner(KEY, 'hmac-sha256');
    const parts = ['{"a":1}', '{}', '{}', '{"b":2}'].map(part => Buffer.from(part));
    const expected = createHmac('sha256', KEY);
    for (const part of parts) expected.update(part);
    expect(signer.sign(parts)).toBe(expected.digest('hex'));
    expect(signer.verify(signer.sign(parts), parts)).toBe(true);
    expect(signer.verify('0'.repeat(64), parts)).toBe(false);
    expect(signer.verify('short', parts)).toBe(false);
  });

  it('honours another signature_scheme', () => {
    const parts = [Buffer.from('x')];
    const sha512 = new MessageSigner(KEY, 'hmac-sha512');
    expect(sha512.sign(parts)).toBe(createHmac('sha512', KEY).update('x').digest('hex'));
    expect(new MessageSigner(KEY).verify(sha512.sign(parts), parts)).toBe(false);
  });

  it('rejects an unknown scheme, naming it', () => {
    expect(() => new MessageSigner(KEY, 'hmac-nosuchhash')).toThrow(/hmac-nosuchhash/);
    expect(() => new MessageSigner(KEY, 'rsa-sha256')).toThrow(/signature_scheme "rsa-sha256"/);
  });

  it('signs nothing when the key is empty', () => {
    const signer = new MessageSigner('');
    expect(signer.enabled).toBe(false);
    expect(signer.sign([Buffer.from('x')])).toBe('');
    expect(signer.verify('', [Buffer.from('x')])).toBe(true);
  });
});

describe('decodeMessage / encodeMessage', () => {
  const signer = new MessageSigner(KEY);

  it('round-trips identities, header, content and buffers', () => {
    const message = decodeMessage(frames(signer), signer);
    expect(message.identities.map(id => id.toString())).toEqual(['client-identity']);
    expect(message.header.msg_type).toBe('execute_request');
    expect(message.header.version).toBe('5.3');
    expect(message.content).toEqual({ code: '1 + 1' });
    expect([...message.buffers[0]!]).toEqual([1, 2, 3]);
  });

  it('rejects a message signed with another key', () => {
    const forged = frames(new MessageSigner('some-other-key'));
    expect(() => decodeMessage(forged, signer)).toThrow(InvalidSignatureError);
  });

  it('rejects an unsigned message when a key is set', () => {
    expect(() => decodeMessage(frames(new MessageSigner('')), signer)).toThrow(
      InvalidSignatureError
    );
  });

  it('verifies the exact received bytes, so tampering with content is detected', () => {
    const good = frames(signer);
    const index = good.findIndex(frame => frame.toString() === DELIMITER);
    const tampered = [...good];
    tampered[index + 5] = Buffer.from('{"code": "1 + 1"}'); // same JSON, other bytes
    expect(() => decodeMessage(tampered, signer)).toThrow(InvalidSignatureError);
  });

  it('accepts JSON formatted differently from ours when the signature matches', () => {
    const parts = [
      JSON.stringify(createHeader('kernel_info_request', 's'), null, 1),
      '{}',
      '{ }',
      '{"x" : 1}'
    ].map(part => Buffer.from(part));
    const message = decodeMessage(
      [Buffer.from(DELIMITER), Buffer.from(signer.sign(parts)), ...parts],
      signer
    );
    expect(message.content).toEqual({ x: 1 });
    expect(message.identities).toEqual([]);
  });

  it('reports malformed messages', () => {
    expect(() => decodeMessage([Buffer.from('no delimiter')], signer)).toThrow(
      MalformedMessageError
    );
    const parts = ['{}', '{}', '{}', 'not json'].map(part => Buffer.from(part));
    expect(() =>
      decodeMessage([Buffer.from(DELIMITER), Buffer.from(signer.sign(parts)), ...parts], signer)
    ).toThrow(/content frame is not JSON/);
    expect(() =>
      decodeMessage(
        [Buffer.from(DELIMITER), Buffer.from(signer.sign(parts)), ...parts.slice(0, 2)],
        signer
      )
    ).toThrow(/expected signature/);
  });
});

describe('encodeMessage', () => {
  it('hands zeromq the JSON frames as text (freed on any thread) and binary buffers as bytes', () => {
    const signer = new MessageSigner(KEY);
    const out = sent(signer, { text: 'ü'.repeat(200) });
    // identity, delimiter, signature, header, parent, metadata, content, one buffer
    expect(out.map(frame => typeof frame)).toEqual([
      'object',
      'string',
      'string',
      'string',
      'string',
      'string',
      'string',
      'object'
    ]);
    // Signed over the UTF-8 bytes that go out, so a non-ASCII content still verifies.
    expect(decodeMessage(frames(signer, { text: 'ü'.repeat(200) }), signer).content).toEqual({
      text: 'ü'.repeat(200)
    });
  });
});
