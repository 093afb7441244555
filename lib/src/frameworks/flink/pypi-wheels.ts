import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { get } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Wheels fetched straight from a Python package index's JSON API (PEP 691), each checked
 * against the SHA-256 the index lists: no Python is needed on the client, and a download
 * reports its bytes as they arrive (pip shows a bar only on a terminal).
 */

/** pip's own setting when there is one (a mirror must serve the JSON form of the API). */
function indexUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.PIP_INDEX_URL ?? 'https://pypi.org/simple').replace(/\/+$/, '');
}

/** An index stalled this long is given up on (a whole download may take many minutes). */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_REDIRECTS = 5;

/** One file of a project's release, as the index lists it. */
export interface IndexedFile {
  filename: string;
  url: string;
  sha256: string;
  size?: number;
}

/** The body of a GET of `url` that answered 200, following redirects. */
function getOk(url: string, accept: string, redirects = 0): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { Accept: accept }, timeout: IDLE_TIMEOUT_MS }, answer => {
      const status = answer.statusCode ?? 0;
      const location = answer.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        answer.resume();
        if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`${url} redirected more than ${MAX_REDIRECTS} times`));
          return;
        }
        resolve(getOk(new URL(location, url).href, accept, redirects + 1));
        return;
      }
      if (status !== 200) {
        answer.resume();
        reject(new Error(`${url} answered HTTP ${status}: expected 200`));
        return;
      }
      resolve(answer);
    });
    request.on('timeout', () =>
      request.destroy(new Error(`${url} sent nothing for ${IDLE_TIMEOUT_MS / 1000} s`))
    );
    request.on('error', reject);
  });
}

async function readText(answer: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of answer) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The wheel name's form of a project name ("apache-flink" → "apache_flink"). */
function wheelProjectName(project: string): string {
  return project.toLowerCase().replace(/[-_.]+/g, '_');
}

/** The wheels of `project`'s release `version` that are not yanked. */
export async function releaseWheels(project: string, version: string): Promise<IndexedFile[]> {
  const url = `${indexUrl()}/${project}/`;
  const text = await readText(await getOk(url, 'application/vnd.pypi.simple.v1+json'));
  let page: { files?: unknown };
  try {
    page = JSON.parse(text) as { files?: unknown };
  } catch {
    throw new Error(
      `${url} answered no JSON: expected the JSON form of the simple API (PEP 691), e.g. from https://pypi.org/simple`
    );
  }
  if (!Array.isArray(page.files)) throw new Error(`${url} lists no "files"`);
  const prefix = `${wheelProjectName(project)}-${version}-`;
  return (page.files as Record<string, unknown>[]).flatMap(file => {
    const filename = String(file.filename);
    const sha256 = (file.hashes as Record<string, unknown> | undefined)?.sha256;
    const yanked = file.yanked !== undefined && file.yanked !== false;
    if (!filename.startsWith(prefix) || !filename.endsWith('.whl') || yanked) return [];
    if (typeof sha256 !== 'string') {
      throw new Error(`${url} lists ${filename} without a sha256: it cannot be verified`);
    }
    return [
      {
        filename,
        url: new URL(String(file.url), url).href,
        sha256,
        ...(typeof file.size === 'number' ? { size: file.size } : {})
      }
    ];
  });
}

/**
 * Downloads `file` to `path`, reporting bytes received; the file is removed and the call
 * rejects when its SHA-256 is not the index's.
 */
export async function downloadVerified(
  file: IndexedFile,
  path: string,
  onBytes: (received: number, total: number | undefined) => void
): Promise<void> {
  const answer = await getOk(file.url, 'application/octet-stream');
  const length = Number(answer.headers['content-length']);
  const total = Number.isFinite(length) && length > 0 ? length : file.size;
  const hash = createHash('sha256');
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      received += chunk.length;
      onBytes(received, total);
      done(null, chunk);
    }
  });
  try {
    await pipeline(answer, counter, createWriteStream(path, { mode: 0o644 }));
    const sum = hash.digest('hex');
    if (sum !== file.sha256) {
      throw new Error(
        `${file.filename} from ${file.url} has SHA-256 ${sum}: expected ${file.sha256}, as the index lists`
      );
    }
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
}
