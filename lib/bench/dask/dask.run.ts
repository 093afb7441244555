import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'vitest';
import { ensureDaskEnvironment, ensureDaskWheels } from '../../src/frameworks/dask/distribution.js';
import {
  daskClientFiles,
  daskServerTlsArgs,
  issueDaskCredentials
} from '../../src/frameworks/dask/tls.js';
import { pickFreePorts } from '../../src/frameworks/free-ports.js';
import { spawnLogged, stopProcess } from '../../src/frameworks/processes.js';
import { defaultPilotCache, PilotComputeService, type DaskContext } from '../../src/pilot/index.js';
import { Testbed } from '../../test/testbed/testbed.js';
import { writeFormattedMarkdown } from '../support/markdown.js';
import { benchRuns, transitionAt, useTestbedSsh } from '../support/pilot-bench.js';
import { median } from '../support/stats.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const START_TIMEOUT_MS = 300_000;
const SLURM_NODE_COUNTS = [1, 3];

/** Waits until the scheduler at argv[1] has argv[5] workers: a user's client, as the pilot's. */
const WAIT_FOR_WORKERS = `
import sys
from distributed import Client
from distributed.security import Security
address, ca, cert, key, count = sys.argv[1:6]
security = Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
with Client(address, security=security, timeout=60) as client:
    client.wait_for_workers(int(count), timeout=120)
`;

interface Configuration {
  label: string;
  resource: 'fork' | 'slurm+ssh';
  nodes: number;
}

interface Row {
  label: string;
  nodes: number;
  /** createPilot() → the context listed every worker (ms), per run. */
  ours: number[];
  /** Of ours: created → Running recorded, and Running → context ready. */
  toRunning: number[];
  toContext: number[];
  /** Dask's own start commands on this machine, scheduler + `nodes` workers → a client sees them. */
  peer: number[];
}

/** One pilot: created → its context lists `nodes` workers; then cancelled. */
async function measurePilot(
  service: PilotComputeService,
  resource: string,
  nodes: number
): Promise<{ total: number; toRunning: number; toContext: number }> {
  const started = performance.now();
  const pilot = await service.createPilot({
    type: 'dask',
    resource,
    numberOfNodes: nodes,
    walltimeMinutes: 10
  });
  try {
    await pilot.wait('Running', { timeoutMs: START_TIMEOUT_MS });
    const context = await pilot.getContext<DaskContext>();
    const workers = (await context.info()).workers.length;
    const total = performance.now() - started;
    if (workers !== nodes)
      throw new Error(`Pilot ${pilot.id} has ${workers} workers, not ${nodes}`);
    const runningAt = transitionAt(pilot.record, 'Running');
    const createdAt = Date.parse(pilot.record.createdAt);
    const readyAt = performance.timeOrigin + performance.now();
    return { total, toRunning: runningAt - createdAt, toContext: readyAt - runningAt };
  } finally {
    await pilot.cancel();
  }
}

/** Dask's own commands on this machine: a TLS scheduler and `nodes` workers until a client sees them. */
async function measurePeer(python: string, dir: string, nodes: number): Promise<number> {
  const tlsDir = join(dir, 'tls');
  await issueDaskCredentials({ pilotId: 'peer', tlsDir, hosts: ['127.0.0.1'] });
  const [port, dashboardPort] = await pickFreePorts(2);
  const address = `tls://127.0.0.1:${port!}`;
  const env = { ...process.env, DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION: 'True' };
  const tls = daskServerTlsArgs(tlsDir);
  const started = performance.now();
  const processes = [
    await spawnLogged(
      [
        python,
        '-m',
        'dask',
        'scheduler',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        // The dashboard as a pilot's scheduler shows it (Bokeh's import is part of the start).
        '--dashboard-address',
        `127.0.0.1:${dashboardPort!}`,
        ...tls
      ],
      { cwd: dir, logPath: join(dir, 'scheduler.log'), env, what: 'the Dask scheduler' }
    )
  ];
  try {
    for (let index = 0; index < nodes; index++) {
      const workerDir = join(dir, `worker-${index}`);
      await mkdir(workerDir, { recursive: true });
      processes.push(
        await spawnLogged(
          [
            python,
            '-m',
            'dask',
            'worker',
            address,
            '--nworkers',
            '1',
            '--host',
            '127.0.0.1',
            '--no-dashboard',
            '--local-directory',
            workerDir,
            ...tls
          ],
          { cwd: dir, logPath: join(dir, `worker-${index}.log`), env, what: 'a Dask worker' }
        )
      );
    }
    const files = daskClientFiles(tlsDir);
    await run(python, [
      '-c',
      WAIT_FOR_WORKERS,
      address,
      files.ca,
      files.cert,
      files.key,
      String(nodes)
    ]);
    return performance.now() - started;
  } finally {
    await Promise.all(processes.map(({ child, exit }) => stopProcess(child, exit, 10_000)));
  }
}

test("Dask pilot start-up against Dask's own start commands, on fork:// and slurm+ssh://", async () => {
  const count = benchRuns('DASK_BENCH_RUNS', 3);
  const loadAtStart = loadavg()[0];
  const dir = await mkdtemp(join(tmpdir(), 'ps-dask-bench-'));
  const cacheDir = defaultPilotCache();
  let restoreSsh: (() => void) | undefined;
  let testbed: Testbed | undefined;
  let service: PilotComputeService | undefined;
  try {
    await ensureDaskWheels({ cacheDir, onProgress: () => undefined });
    const { python } = await ensureDaskEnvironment({ cacheDir, onProgress: () => undefined });
    testbed = await Testbed.start({ nodes: Math.max(...SLURM_NODE_COUNTS) });
    const { ssh } = testbed.info;
    restoreSsh = useTestbedSsh(ssh);
    const remoteHome = await mkdtemp(join(testbed.info.dir, 'home-'));
    service = new PilotComputeService({
      home: join(dir, 'home'),
      cacheDir,
      // The testbed's nodes share this machine's cache: the wheels are there already.
      remote: { home: remoteHome, cacheDir }
    });
    const resources = {
      fork: 'fork://localhost',
      'slurm+ssh': `slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`
    };
    const configurations: Configuration[] = [
      { label: 'fork://localhost, 1 node', resource: 'fork', nodes: 1 },
      ...SLURM_NODE_COUNTS.map(nodes => ({
        label: `slurm+ssh, ${nodes} node${nodes > 1 ? 's' : ''}`,
        resource: 'slurm+ssh' as const,
        nodes
      }))
    ];
    const rows: Row[] = configurations.map(configuration => ({
      label: configuration.label,
      nodes: configuration.nodes,
      ours: [],
      toRunning: [],
      toContext: [],
      peer: []
    }));
    // One warm-up of each (environments, imports, the first ssh connection), then rounds in
    // turn, so that a change in the machine's load hits every configuration and its peer alike.
    for (let round = 0; round <= count; round++) {
      for (const [index, configuration] of configurations.entries()) {
        const ours = await measurePilot(
          service,
          resources[configuration.resource],
          configuration.nodes
        );
        const peerDir = await mkdtemp(join(dir, 'peer-'));
        const peer = await measurePeer(python, peerDir, configuration.nodes);
        await rm(peerDir, { recursive: true, force: true });
        console.log(
          `${configuration.label}, round ${round}: pilot ${(ours.total / 1000).toFixed(2)} s (Running after ${(ours.toRunning / 1000).toFixed(2)} s), Dask's own commands ${(peer / 1000).toFixed(2)} s`
        );
        if (round === 0) continue;
        const row = rows[index]!;
        row.ours.push(ours.total);
        row.toRunning.push(ours.toRunning);
        row.toContext.push(ours.toContext);
        row.peer.push(peer);
      }
    }
    const results = {
      date: new Date().toISOString().slice(0, 10),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      runs: count,
      rows: rows.map(row => ({ ...row, ratio: median(row.ours) / median(row.peer) }))
    };
    const json = join(dir, 'results.json');
    await writeFile(json, JSON.stringify(results, null, 2));
    const docs = join(repo, 'docs', 'benchmarks');
    const markdown = join(docs, 'dask.md');
    await run(join(repo, '.venv', 'bin', 'python'), [
      join(here, 'report.py'),
      json,
      markdown,
      join(docs, 'dask.png')
    ]);
    console.log(await writeFormattedMarkdown(markdown, await readFile(markdown, 'utf8')));
  } finally {
    await service?.close();
    restoreSsh?.();
    await testbed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
