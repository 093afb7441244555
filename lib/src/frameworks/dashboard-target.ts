import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import type { ClientCredentials } from './certificates.js';
import type { DashboardTarget } from './plugin.js';

/**
 * A dashboard served with mutual TLS at `address` ("https://host:port"): connections present
 * the pilot's client certificate and check the server's against the pilot's authority; with
 * `socketFactory` they are made from the far side of the resource's ssh connection.
 */
export function tlsDashboardTarget(
  address: string,
  credentials: ClientCredentials,
  socketFactory?: ISocketFactory
): DashboardTarget {
  const url = new URL(address);
  if (url.protocol !== 'https:' || url.port === '') {
    throw new Error(`A dashboard address is "https://host:port"; the record says "${address}"`);
  }
  // URL keeps an IPv6 host in brackets; connections and certificate checks take it bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port);
  return {
    address,
    connect: onConnect =>
      socketFactory !== undefined
        ? socketFactory({ host, port, ssl: { ...credentials }, onConnect })
        : tlsConnect(
            { host, port, ...credentials, ...(isIP(host) === 0 ? { servername: host } : {}) },
            onConnect
          )
  };
}
