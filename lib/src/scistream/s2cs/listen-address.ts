import net from 'node:net';
import { formatEndpoint } from '../s2ds/data-plane.js';

/** The control port cannot be bound; `option` is what the user should change. */
export class ListenError extends Error {
  constructor(
    readonly option: 'port' | 'bind',
    message: string,
    options?: ErrorOptions
  ) {
    super(message, options);
    this.name = 'ListenError';
  }
}

/** The error code of listening on `host:port` right now, or undefined if that works. */
export async function listenProblem(host: string, port: number): Promise<string | undefined> {
  return new Promise<string | undefined>(resolve => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/** Why `host:port` cannot be listened on, in words (gRPC's own message hides the reason). */
export function listenFailure(
  host: string,
  port: number,
  code: string | undefined,
  cause: unknown
): ListenError {
  const address = formatEndpoint({ host, port });
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(
        'port',
        `${address} is in use by another program (EADDRINUSE); expected a free port (0: any free port)`,
        { cause }
      );
    case 'EACCES':
      return new ListenError(
        'port',
        `${address} needs privileges to listen on (EACCES); expected a port from 1024 up (0: any free port)`,
        { cause }
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new ListenError(
        'bind',
        `${host} is not an address of this machine (${code}); expected a local address, or 0.0.0.0 for all`,
        { cause }
      );
    default: {
      const detail = cause instanceof Error ? `: ${cause.message}` : '';
      return new ListenError(
        'port',
        `cannot listen on ${address}${code ? ` (${code})` : ''}${detail}`,
        { cause }
      );
    }
  }
}
