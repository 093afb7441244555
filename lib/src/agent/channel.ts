import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { deserialize, serialize } from 'node:v8';

/**
 * The agent channel: TLS 1.3 with a pre-shared key (the per-pilot secret), so traffic is
 * encrypted and both ends prove they hold the secret, without certificates. Frames are a 4-byte
 * length and a v8-serialized message (structured-clone values travel as they are).
 */
export const AGENT_TLS_OPTIONS = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ciphers: 'TLS_AES_128_GCM_SHA256'
} as const;

/** Name of the secret file in the pilot's work dir (mode 0600). */
export const AGENT_SECRET_FILE = 'agent.secret';
const SECRET_BYTES = 32;
const MAX_FRAME_BYTES = 512 * 1024 * 1024;

/** Creates the pilot's secret file (fails if one exists: a secret is never replaced silently). */
export async function createAgentSecret(path: string): Promise<void> {
  await writeFile(path, randomBytes(SECRET_BYTES).toString('hex'), { mode: 0o600, flag: 'wx' });
}

export async function readAgentSecret(path: string): Promise<Buffer> {
  return parseAgentSecret(await readFile(path, 'utf8'), path);
}

/** The secret from the text of its file (read from `where`, locally or over SFTP). */
export function parseAgentSecret(content: string, where: string): Buffer {
  const text = content.trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new Error(`The agent secret in ${where} is malformed: expected 64 hex digits`);
  }
  return Buffer.from(text, 'hex');
}

/** Writes one message as a frame. */
export function writeFrame(socket: Duplex, message: unknown): void {
  const body = serialize(message);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  socket.write(Buffer.concat([header, body]));
}

/** Calls `onMessage` for every complete frame read from `socket`. */
export function readFrames(socket: Duplex, onMessage: (message: unknown) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const length = buffered.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) {
        socket.destroy(new Error(`agent frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`));
        return;
      }
      if (buffered.length < 4 + length) break;
      const body = buffered.subarray(4, 4 + length);
      buffered = buffered.subarray(4 + length);
      onMessage(deserialize(body));
    }
  });
}

/** How the client reaches host:port; a remote pilot plugs in an ssh forwardOut here. */
export type ConnectFactory = (host: string, port: number) => Promise<Duplex | undefined>;

/**
 * Opens an authenticated TLS-PSK connection to an agent. With `connect` returning a stream, TLS
 * runs over it (e.g. an ssh channel); undefined lets tls open a direct TCP connection.
 */
export async function connectAgent(options: {
  host: string;
  port: number;
  pilotId: string;
  secret: Buffer;
  connect?: ConnectFactory;
}): Promise<tls.TLSSocket> {
  const { host, port, pilotId, secret } = options;
  const stream = options.connect !== undefined ? await options.connect(host, port) : undefined;
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...AGENT_TLS_OPTIONS,
      ...(stream !== undefined ? { socket: stream } : { host, port }),
      servername: '',
      // The PSK authenticates the agent; there is no certificate to check.
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity: pilotId, psk: secret })
    } as tls.ConnectionOptions);
    const onError = (error: Error): void => {
      reject(
        new Error(
          `Cannot reach the agent of ${pilotId} at ${host}:${port}: ${error.message} (a wrong secret fails the handshake)`,
          { cause: error }
        )
      );
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}
