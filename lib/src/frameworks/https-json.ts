import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { ClientCredentials } from './certificates.js';
import type { DashboardTarget } from './plugin.js';

const REQUEST_TIMEOUT_MS = 5000;

/**
 * GET `path` of a framework's HTTPS server at `address` ("https://host:port") as JSON, with the
 * pilot's client certificate (the servers take no one else).
 */
export function getJson(
  address: string,
  path: string,
  credentials: ClientCredentials
): Promise<unknown> {
  const url = new URL(path, address);
  return jsonAnswer(url, answer =>
    request(url, { ...credentials, timeout: REQUEST_TIMEOUT_MS, agent: false }, answer)
  );
}

/**
 * The same through a dashboard target's connections (mutual TLS already, through the
 * resource's ssh connection for a remote pilot).
 */
export function getJsonThrough(target: DashboardTarget, path: string): Promise<unknown> {
  const url = new URL(path, target.address);
  return jsonAnswer(url, answer =>
    httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        timeout: REQUEST_TIMEOUT_MS,
        createConnection: () => target.connect(() => undefined)
      },
      answer
    )
  );
}

/** Sends the request that `send` makes and parses a 200 answer as JSON; rejects naming `url`. */
function jsonAnswer(
  url: URL,
  send: (answer: (response: IncomingMessage) => void) => ClientRequest
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sent = send(response => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200) {
          reject(new Error(`${url.href} answered ${response.statusCode}: ${body.slice(0, 200)}`));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(new Error(`${url.href} answered no JSON: ${(error as Error).message}`));
        }
      });
      response.on('error', reject);
    });
    sent.on('timeout', () => sent.destroy(new Error(`${url.href} did not answer in time`)));
    sent.on('error', reject);
    sent.end();
  });
}
