import { createHmac, getHashes, randomUUID, timingSafeEqual } from 'node:crypto';

/** Jupyter messaging protocol version this kernel speaks. */
export const PROTOCOL_VERSION = '5.3';

/** Separates routing identities from the message proper on the wire. */
export const DELIMITER = '<IDS|MSG>';

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
  [key: string]: unknown;
}

export interface JupyterMessage<C = Record<string, unknown>> {
  /** ZeroMQ routing identities (ROUTER sockets), sent back unchanged with the reply. */
  identities: Buffer[];
  header: MessageHeader;
  /** Empty object when the message has no parent. */
  parent_header: MessageHeader | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

export class InvalidSignatureError extends Error {
  constructor(reason: string) {
    super(`message rejected: ${reason}`);
    this.name = 'InvalidSignatureError';
  }
}

export class MalformedMessageError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`malformed message: ${reason}`, options);
    this.name = 'MalformedMessageError';
  }
}

/**
 * Signs and verifies messages with the connection file's key. An empty key disables signing, as
 * the specification allows.
 */
export class MessageSigner {
  private readonly algorithm: string;

  constructor(
    private readonly key: string,
    signatureScheme = 'hmac-sha256'
  ) {
    const match = /^hmac-([a-z0-9-]+)$/i.exec(signatureScheme);
    const algorithm = match?.[1]?.toLowerCase();
    if (algorithm === undefined || !getHashes().includes(algorithm)) {
      throw new Error(
        `signature_scheme ${JSON.stringify(signatureScheme)} is not supported: expected "hmac-<hash>" with a hash known to OpenSSL, e.g. "hmac-sha256"`
      );
    }
    this.algorithm = algorithm;
  }

  get enabled(): boolean {
    return this.key.length > 0;
  }

  /** Hex digest over the four signed frames, exactly as given. */
  sign(frames: readonly Uint8Array[]): string {
    if (!this.enabled) return '';
    const hmac = createHmac(this.algorithm, this.key);
    for (const frame of frames) hmac.update(frame);
    return hmac.digest('hex');
  }

  /** Constant-time comparison of the received signature with the one computed over the frames. */
  verify(signature: string, frames: readonly Uint8Array[]): boolean {
    if (!this.enabled) return true;
    const expected = Buffer.from(this.sign(frames), 'latin1');
    const received = Buffer.from(signature, 'latin1');
    return expected.length === received.length && timingSafeEqual(expected, received);
  }
}

function parseJsonFrame(frame: Buffer, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(frame.toString('utf8'));
  } catch (error) {
    throw new MalformedMessageError(`${name} frame is not JSON (${(error as Error).message})`, {
      cause: error
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedMessageError(`${name} frame must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Splits received frames into a message, verifying the signature over the exact received bytes
 * (never over re-serialised JSON).
 */
export function decodeMessage(frames: readonly Buffer[], signer: MessageSigner): JupyterMessage {
  const delimiterIndex = frames.findIndex(frame => frame.toString('latin1') === DELIMITER);
  if (delimiterIndex < 0) throw new MalformedMessageError(`no ${DELIMITER} delimiter frame`);
  if (frames.length < delimiterIndex + 6) {
    throw new MalformedMessageError(
      `expected signature, header, parent_header, metadata and content after the delimiter, got ${frames.length - delimiterIndex - 1} frames`
    );
  }
  const signature = frames[delimiterIndex + 1]!.toString('latin1');
  const signed = frames.slice(delimiterIndex + 2, delimiterIndex + 6);
  if (!signer.verify(signature, signed)) {
    throw new InvalidSignatureError('invalid HMAC signature');
  }
  const [header, parent, metadata, content] = signed.map((frame, index) =>
    parseJsonFrame(frame, ['header', 'parent_header', 'metadata', 'content'][index]!)
  );
  if (typeof header!.msg_type !== 'string' || typeof header!.msg_id !== 'string') {
    throw new MalformedMessageError('header lacks msg_type or msg_id');
  }
  return {
    identities: frames.slice(0, delimiterIndex),
    header: header as MessageHeader,
    parent_header: parent as JupyterMessage['parent_header'],
    metadata: metadata!,
    content: content!,
    buffers: frames.slice(delimiterIndex + 6)
  };
}

/**
 * A frame as zeromq sends it. Text goes as a string: zeromq sends it as UTF-8 and frees it on
 * whichever thread is done with it, while a Buffer of more than 128 bytes is sent uncopied and
 * released on its thread's event loop, which is gone when the kernel exits right after sending
 * (heap corruption, "free(): corrupted unsorted chunks", at shutdown).
 */
export type WireFrame = string | Buffer;

/** Frames for sending: identities, delimiter, signature, the four JSON frames, buffers. */
export function encodeMessage(
  message: Omit<JupyterMessage<unknown>, 'buffers'> & { buffers?: readonly Uint8Array[] },
  signer: MessageSigner
): WireFrame[] {
  const texts = [message.header, message.parent_header, message.metadata, message.content].map(
    part => JSON.stringify(part ?? {})
  );
  // Signed over the UTF-8 bytes zeromq will send.
  const signature = signer.sign(texts.map(text => Buffer.from(text, 'utf8')));
  return [
    ...message.identities,
    DELIMITER,
    signature,
    ...texts,
    ...(message.buffers ?? []).map(buffer => Buffer.from(buffer))
  ];
}

export function createHeader(msgType: string, session: string): MessageHeader {
  return {
    msg_id: randomUUID(),
    session,
    username: 'kernel',
    date: new Date().toISOString(),
    msg_type: msgType,
    version: PROTOCOL_VERSION
  };
}
