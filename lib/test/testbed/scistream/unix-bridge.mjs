// Listens on HOST:PORT (inside a network namespace) and relays each connection to a Unix socket
// (outside it): how gateways in the testbed reach the OIDC issuer running in the test process.
//   node unix-bridge.mjs HOST PORT SOCKET_PATH
/* global console */
import net from 'node:net';
import process from 'node:process';

const [host, port, path] = process.argv.slice(2);
net
  .createServer(client => {
    const upstream = net.connect(path);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
  })
  .listen(Number(port), host, () => console.log('ready'));
