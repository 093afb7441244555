import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as prettier from 'prettier';
import { test } from 'vitest';
import { Gateway } from '../../src/scistream/s2uc/gateway.js';
import { ScistreamClient } from '../../src/scistream/s2uc/scistream-client.js';
import {
  createCertificateAuthority,
  issueServerCertificate
} from '../../src/scistream/tls/certificates.js';
import { randomPortRange } from '../../test/testbed/scistream/loopback-gateways.js';
import { AUDIENCE, OidcIssuer } from '../../test/testbed/scistream/oidc-issuer.js';
import {
  binNodeArgs,
  bundleBin,
  s2csArgs,
  S2csProcess
} from '../../test/testbed/scistream/s2cs-process.js';
import { SshTunnel, waitListening } from './sshd-tunnel.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const SECONDS = Number(process.env.SCISTREAM_BENCH_SECONDS ?? 5);
const SETUP_RUNS = 20;
// Comma-separated S2DS backends to measure (all by default), e.g. while tuning one of them.
const ONLY = process.env.SCISTREAM_BENCH_ONLY?.split(',');

interface Row {
  path: string;
  streams: number;
  gbps: number;
}

async function iperf(port: number, streams: number, attempt = 1): Promise<number> {
  const { stdout } = await run(
    'iperf3',
    ['-c', '127.0.0.1', '-p', String(port), '-t', String(SECONDS), '-P', String(streams), '-J'],
    { maxBuffer: 64 * 1024 * 1024, timeout: (SECONDS + 30) * 1000 }
  );
  const report = JSON.parse(stdout) as {
    error?: string;
    end: { sum_received?: { bits_per_second: number } };
  };
  // The server takes one test at a time and may still be closing the previous one.
  if (report.error !== undefined && /busy/.test(report.error) && attempt < 5) {
    await new Promise(resolve => setTimeout(resolve, 1000));
    return iperf(port, streams, attempt + 1);
  }
  if (report.error !== undefined || report.end.sum_received === undefined) {
    throw new Error(`iperf3 through port ${port}, ${streams} stream(s): ${report.error}`);
  }
  return report.end.sum_received.bits_per_second / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('SciStream gateway benchmark: throughput against peers, whole-stream set-up time', async () => {
  const loadAtStart = loadavg()[0];
  const dir = await mkdtemp(join(tmpdir(), 'scistream-bench-'));
  const issuer = new OidcIssuer();
  const processes: S2csProcess[] = [];
  const gateways: Gateway[] = [];
  const ssh = new SshTunnel(join(dir, 'ssh-aes'));
  const sshDefault = new SshTunnel(join(dir, 'ssh-default'));
  let iperfServer: ReturnType<typeof spawn> | undefined;
  try {
    const ca = await createCertificateAuthority(dir);
    const cert = await issueServerCertificate(ca, dir, 'gateway', ['localhost', '127.0.0.1']);
    await issuer.start();
    // The gateways run as the `s2cs` executable, with the node flags of its shebang line.
    const s2cs = await bundleBin(dir, 's2cs');
    const nodeArgs = await binNodeArgs('s2cs');
    const token = await issuer.token(issuer.clients.alice);
    // Two gateways as two processes, as on two facility gateway nodes.
    for (const name of ['producer', 'consumer']) {
      const range = randomPortRange(100);
      const gateway = new S2csProcess(
        s2cs,
        s2csArgs({ certificate: cert, port: 0, portRange: range, stateDir: join(dir, name) }, [
          '--issuer',
          issuer.issuer,
          '--audience',
          AUDIENCE,
          '--peer-ca',
          ca.certFile
        ]),
        undefined,
        {},
        [],
        nodeArgs
      );
      processes.push(gateway);
      const port = await gateway.start();
      gateways.push(
        new Gateway({ address: `127.0.0.1:${port}`, caCert: await readFile(ca.certFile), token })
      );
    }
    const client = new ScistreamClient({ producer: gateways[0], consumer: gateways[1] });

    // Whole-stream set-up: producer req + hello + update, consumer req + update, over TLS with
    // token validation on every call.
    const setup: number[] = [];
    for (let i = 0; i < SETUP_RUNS; i++) {
      const stream = await client.createStream({ producerListeners: ['127.0.0.1:9'], numConn: 1 });
      setup.push(stream.setupMs);
      await client.releaseStream(stream.uid);
    }

    // All paths are set up before iperf3 listens, so readiness probes never reach it.
    const iperfPort = randomPortRange(1).low;
    const paths: { path: string; port: number }[] = [{ path: 'direct', port: iperfPort }];
    const ours: Record<string, string> = {
      'SciStream native (TLS 1.3)': 'native',
      'stunnel pair (TLS 1.3)': 'stunnel',
      'HAProxy pair (plain TCP)': 'haproxy'
    };
    for (const [path, backend] of Object.entries(ours)) {
      if (ONLY && !ONLY.includes(backend)) continue;
      const stream = await client.createStream({
        producerListeners: [`127.0.0.1:${iperfPort}`],
        numConn: 1,
        backend
      });
      paths.push({ path, port: Number(stream.consumerListeners[0].split(':')[1]) });
    }
    if (!ONLY || ONLY.includes('ssh')) {
      paths.push({
        path: 'ssh -L (aes128-gcm)',
        port: await ssh.start(iperfPort, 'aes128-gcm@openssh.com')
      });
      paths.push({ path: 'ssh -L (default cipher)', port: await sshDefault.start(iperfPort) });
    }
    iperfServer = spawn('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(iperfPort)], {
      stdio: 'ignore'
    });
    await waitListening(iperfPort);

    const rows: Row[] = [];
    for (const streams of [1, 4]) {
      for (const { path, port } of paths) {
        const gbps = await iperf(port, streams);
        rows.push({ path, streams, gbps });
        console.log(`${path}, ${streams} stream(s): ${gbps.toFixed(2)} Gbit/s`);
      }
    }

    const results = {
      date: new Date().toISOString(),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      seconds: SECONDS,
      // Others share the machine: the load says how much of it this run had.
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      rows,
      setupMs: {
        median: median(setup),
        min: Math.min(...setup),
        max: Math.max(...setup),
        runs: setup.length
      }
    };
    if (ONLY) return;
    const docs = join(repo, 'docs', 'benchmarks');
    const json = join(dir, 'results.json');
    await writeFile(json, JSON.stringify(results, null, 2));
    await run(join(repo, '.venv', 'bin', 'python'), [
      join(here, 'report.py'),
      json,
      join(docs, 'scistream.md'),
      join(docs, 'scistream.png')
    ]);
    // Committed with the rest of the repository, so formatted as the repository's Markdown is.
    const markdown = join(docs, 'scistream.md');
    const options = (await prettier.resolveConfig(markdown)) ?? {};
    const formatted = await prettier.format(await readFile(markdown, 'utf8'), {
      ...options,
      parser: 'markdown'
    });
    await writeFile(markdown, formatted);
    console.log(formatted);
  } finally {
    iperfServer?.kill('SIGTERM');
    await ssh.stop();
    await sshDefault.stop();
    for (const gateway of gateways) gateway.close();
    for (const gateway of processes) await gateway.stop('SIGTERM');
    await issuer.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
