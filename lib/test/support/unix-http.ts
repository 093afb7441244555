import { request, type IncomingHttpHeaders } from 'node:http';

/** A GET over a Unix socket (as jupyter-server-proxy makes them), body as text. */
export function getOverSocket(
  socketPath: string,
  path: string,
  headers: Record<string, string> = {}
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request({ socketPath, path, headers, agent: false }, response => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8')
        })
      );
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end();
  });
}

/**
 * A websocket opening handshake over a Unix socket: resolves with the status and the first
 * bytes the server sends after a 101 (a Bokeh server speaks first), then closes.
 */
export function websocketOverSocket(
  socketPath: string,
  path: string
): Promise<{ status: number; firstFrame?: Buffer }> {
  return new Promise((resolve, reject) => {
    const sent = request({
      socketPath,
      path,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': Buffer.from('pilot-dashboards').toString('base64')
      }
    });
    sent.on('upgrade', (response, socket, head) => {
      const done = (firstFrame: Buffer) => {
        socket.destroy();
        resolve({ status: response.statusCode ?? 0, firstFrame });
      };
      if (head.length > 0) done(head);
      else socket.once('data', done);
      socket.once('error', reject);
    });
    sent.on('response', response => {
      response.resume();
      resolve({ status: response.statusCode ?? 0 });
    });
    sent.on('error', reject);
    sent.end();
  });
}
