import { createServer, type Server } from 'node:net';

/**
 * Ports free right now on `host`: the kernel picks them (bind to port 0), then they are released
 * for the framework. Another process may grab one in between, so callers retry on EADDRINUSE.
 */
export async function pickFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    }
    return servers.map(server => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('No TCP port bound');
      return address.port;
    });
  } finally {
    await Promise.all(
      servers.map(server => new Promise<void>(resolve => server.close(() => resolve())))
    );
  }
}
