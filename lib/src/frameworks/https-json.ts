import { request } from 'node:https';
import type { ClientCredentials } from './certificates.js';

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
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      { ...credentials, timeout: REQUEST_TIMEOUT_MS, agent: false },
      response => {
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
      }
    );
    sent.on('timeout', () => sent.destroy(new Error(`${url.href} did not answer in time`)));
    sent.on('error', reject);
    sent.end();
  });
}
