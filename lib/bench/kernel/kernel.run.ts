/**
 * What the kernel's cell machinery costs a cell's own code, against Node's `vm` running the same
 * JavaScript (what a kernel without rewriting does), in the same run: loops pay for the interrupt
 * check every turn (decision D31), awaits for the cell's async wrapper. Timed inside the cell, so
 * transpiling and rewriting are not counted. Writes docs/benchmarks/kernel.{md,png}.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import vm from 'node:vm';
import { test } from 'vitest';
import { writeFormattedMarkdown } from '../support/markdown.js';
import { Executor } from '../../src/kernel/executor/executor.js';
import { median } from '../support/stats.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const RUNS = Number(process.env.KERNEL_BENCH_RUNS ?? '7');

/** A workload: `body` runs between two clock readings; it may await. */
interface Workload {
  name: string;
  body: string;
}

// Top-level bindings of a cell persist in the context's script scope (a global object's property
// would go through the context's interceptor): the same loops on top-level and on function-local
// variables show whether they cost more than the loops' interrupt checks.
const WORKLOADS: Workload[] = [
  {
    name: 'loop of 10^7 turns on top-level variables',
    body: 'let sum = 0; for (let i = 0; i < 1e7; i++) sum += i & 7;'
  },
  {
    name: 'loop of 10^8 turns in a function',
    body: '(() => { let sum = 0; for (let i = 0; i < 1e8; i++) sum += i & 7; return sum; })();'
  },
  {
    name: 'nested loops of 3000 × 3000 turns in a function',
    body: '(() => { let sum = 0; for (let i = 0; i < 3000; i++) for (let j = 0; j < 3000; j++) sum += (i ^ j) & 1; return sum; })();'
  },
  {
    name: 'for-of over 10^6 objects into a Map, in a function',
    body:
      '(() => { const items = Array.from({ length: 1e6 }, (_, i) => ({ key: i % 1000, value: i }));' +
      ' const totals = new Map(); for (const { key, value } of items) totals.set(key, (totals.get(key) ?? 0) + value); return totals; })();'
  },
  {
    // Every function a cell defines checks the interrupt flag when called; V8 inlines small ones.
    name: '10^7 calls of a small recursive function',
    body: '(() => { const depth = n => (n === 0 ? 0 : 1 + depth(n - 1)); let sum = 0; for (let i = 0; i < 1e6; i++) sum += depth(9); return sum; })();'
  },
  {
    name: 'while loop with 20,000 awaits, top level',
    body: 'let n = 0; while (n < 20000) { await null; n++; }'
  }
];

/** The cell: the workload between two readings of the clock, the elapsed ms as its value. */
function cell(workload: Workload): string {
  return `const started = performance.now();\n${workload.body}\nperformance.now() - started`;
}

/** Ours: the kernel's executor (esbuild, rewrite with interrupt checks, vm). */
async function timeOurs(executor: Executor, workload: Workload, label: string): Promise<number> {
  const result = await executor.execute(cell(workload), label);
  return result!.value as number;
}

/** Peer: the same JavaScript in a `vm` context, as an async function (top-level await). */
async function timePeer(workload: Workload): Promise<number> {
  const context = vm.createContext({ performance });
  const script = `(async () => { const started = performance.now();\n${workload.body}\nreturn performance.now() - started; })()`;
  return (await vm.runInContext(script, context)) as number;
}

test('kernel cell overhead', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kernel-bench-'));
  try {
    const executor = new Executor({
      cwd: dir,
      runMagic: () => Promise.reject(new Error('no magics in the benchmark')),
      runCellMagic: () => Promise.reject(new Error('no magics in the benchmark')),
      onLateError: error => console.error(error)
    });
    const loadAtStart = loadavg()[0];
    const rows = [];
    let cellNumber = 0;
    for (const workload of WORKLOADS) {
      const ours: number[] = [];
      const peer: number[] = [];
      // One warm-up each, then the two take turns so that changes in load hit them alike.
      await timeOurs(executor, workload, `cell-${++cellNumber}`);
      await timePeer(workload);
      for (let index = 0; index < RUNS; index++) {
        ours.push(await timeOurs(executor, workload, `cell-${++cellNumber}`));
        peer.push(await timePeer(workload));
      }
      rows.push({ name: workload.name, ours, peer, ratio: median(ours) / median(peer) });
    }
    const results = {
      date: new Date().toISOString().slice(0, 10),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      runs: RUNS,
      rows
    };
    const json = join(dir, 'results.json');
    await writeFile(json, JSON.stringify(results, null, 2));
    const docs = join(repo, 'docs', 'benchmarks');
    const markdown = join(docs, 'kernel.md');
    await run(join(repo, '.venv', 'bin', 'python'), [
      join(here, 'report.py'),
      json,
      markdown,
      join(docs, 'kernel.png')
    ]);
    console.log(await writeFormattedMarkdown(markdown, await readFile(markdown, 'utf8')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
