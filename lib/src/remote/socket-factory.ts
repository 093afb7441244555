import type { Socket } from 'node:net';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import type { RemoteConnection } from './connection.js';

/**
 * A kafkajs `socketFactory` whose broker connections are made from the far side of `connection`
 * (ssh `direct-tcpip` channels): a client here reaches brokers that only the remote side can
 * reach, and no port is opened anywhere. Broker addresses are resolved on the remote side.
 * With TLS, the TLS session runs end to end through the channel (the broker's certificate is
 * checked against `host`, as without the tunnel).
 */
export function tunnelSocketFactory(connection: RemoteConnection): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const tunnel = connection.tunnel(host, port);
    // kafkajs passes null without TLS and `true` or options with it.
    if (ssl) {
      const options: ConnectionOptions = typeof ssl === 'object' ? ssl : {};
      // `host` names the peer for the certificate check; SNI takes host names only.
      return tlsConnect(
        {
          ...options,
          socket: tunnel,
          host,
          ...(isIP(host) === 0 ? { servername: host } : {})
        },
        onConnect
      );
    }
    tunnel.once('connect', onConnect);
    // kafkajs uses the stream and net.Socket's setKeepAlive/unref, which TunnelSocket has.
    return tunnel as unknown as Socket;
  };
}
