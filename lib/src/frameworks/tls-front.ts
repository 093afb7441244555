import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

/**
 * A mutual-TLS front for a framework endpoint that speaks plaintext on loopback (Spark Connect's
 * gRPC server has no TLS of its own): it listens on the node's address, takes only clients with
 * a certificate of the pilot's authority and pipes each connection to the endpoint.
 */
export interface TlsFront {
  /** The port it listens on. */
  port: number;
  close(): Promise<void>;
}

export async function startTlsFront(options: {
  host: string;
  /** PEM: the node's certificate chain, its key, and the authority clients must come from. */
  cert: string;
  key: string;
  ca: string;
  target: { host: string; port: number };
  /** Protocols offered in ALPN (gRPC clients ask for "h2"). */
  alpn?: string[];
}): Promise<TlsFront> {
  const open = new Set<Socket>();
  const server = createServer(
    {
      cert: options.cert,
      key: options.key,
      ca: options.ca,
      requestCert: true,
      rejectUnauthorized: true,
      ...(options.alpn !== undefined ? { ALPNProtocols: options.alpn } : {})
    },
    (client: TLSSocket) => {
      const upstream = connect(options.target.port, options.target.host);
      for (const socket of [client, upstream]) {
        open.add(socket);
        socket.once('close', () => open.delete(socket));
      }
      // Either side ending or failing ends both: a client sees a closed stream, not a hang.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    }
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('The TLS front bound no TCP port');
  return {
    port: address.port,
    close: () =>
      new Promise(resolve => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      })
  };
}
