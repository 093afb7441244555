import type { Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import type { RemoteConnection } from './connection.js';

/**
 * A kafkajs `socketFactory` whose broker connections are made from the far side of `connection`
 * (ssh `direct-tcpip` channels): a client here reaches brokers that only the remote side can
 * reach, and no port is opened anywhere. Broker addresses are resolved on the remote side.
 * TLS to the brokers is not supported through it yet.
 */
export function tunnelSocketFactory(connection: RemoteConnection): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    // kafkajs passes null without TLS and `true` or options with it.
    if (ssl) {
      throw new Error(
        `Kafka over TLS through the ssh connection to ${connection.label} is not supported: expected a plaintext listener at ${host}:${port}`
      );
    }
    const socket = connection.tunnel(host, port);
    socket.once('connect', onConnect);
    // kafkajs uses the stream and net.Socket's setKeepAlive/unref, which TunnelSocket has.
    return socket as unknown as Socket;
  };
}
