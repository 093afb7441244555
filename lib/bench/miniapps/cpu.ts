/**
 * Where a machine's cores went while something ran: the CPU time of groups of processes (picked
 * by their command line) and of the whole machine, from /proc, sampled every 250 ms so that
 * processes that start and end within the span count too. Shown as cores (CPU seconds per
 * second): on a shared machine, what the whole machine used beyond our groups is other users'.
 */
import { readFile, readdir } from 'node:fs/promises';

/** Linux's USER_HZ: /proc reports CPU time in ticks of 1/100 s. */
const TICKS_PER_SECOND = 100;
const INTERVAL_MS = 250;

export type ProcessMatcher = (commandLine: string) => boolean;

export interface CpuUse {
  wallSeconds: number;
  /** The whole machine's busy cores (every CPU, not idle or waiting for I/O). */
  machineCores: number;
  /** Cores each group used, in the order given. */
  groups: Record<string, number>;
}

/** One reading: clock time (ms), the machine's busy ticks and each group's ticks since the start. */
export interface CpuSample {
  atMs: number;
  machine: number;
  groups: Record<string, number>;
}

/** Cores used between two clock times (ms), from the readings nearest inside them. */
export function coresBetween(samples: readonly CpuSample[], fromMs: number, toMs: number): CpuUse {
  const inside = samples.filter(sample => sample.atMs >= fromMs && sample.atMs <= toMs);
  const first = inside[0];
  const last = inside.at(-1);
  if (first === undefined || last === undefined || last.atMs - first.atMs < 200)
    return { wallSeconds: 0, machineCores: NaN, groups: {} };
  const seconds = (last.atMs - first.atMs) / 1000;
  return {
    wallSeconds: seconds,
    machineCores: (last.machine - first.machine) / TICKS_PER_SECOND / seconds,
    groups: Object.fromEntries(
      Object.keys(last.groups).map(name => [
        name,
        ((last.groups[name] ?? 0) - (first.groups[name] ?? 0)) / TICKS_PER_SECOND / seconds
      ])
    )
  };
}

async function machineBusyTicks(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  // user nice system idle iowait irq softirq steal (guest time is within user already).
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return total - ticks[3]! - ticks[4]!;
}

async function processTicks(pid: string): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

export class CpuWatch {
  private readonly commandLines = new Map<string, string>();
  /** Per matched pid: its group, its ticks at the start (0 when it started later), its latest. */
  private readonly matched = new Map<string, { group: string; first: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private machineStart = 0;
  private sampling: Promise<void> = Promise.resolve();
  /** Every reading since the start, for the cores of a part of the span (`coresBetween`). */
  readonly samples: CpuSample[] = [];

  private constructor(private readonly groups: Record<string, ProcessMatcher>) {}

  static async start(groups: Record<string, ProcessMatcher>): Promise<CpuWatch> {
    const watch = new CpuWatch(groups);
    await watch.sample(true);
    watch.machineStart = await machineBusyTicks();
    watch.startedAt = performance.now();
    watch.timer = setInterval(() => {
      watch.sampling = watch.sampling.then(() => watch.sample(false));
    }, INTERVAL_MS);
    return watch;
  }

  async stop(): Promise<CpuUse> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample(false);
    const wallSeconds = (performance.now() - this.startedAt) / 1000;
    const machine = (await machineBusyTicks()) - this.machineStart;
    const groups: Record<string, number> = Object.fromEntries(
      Object.keys(this.groups).map(name => [name, 0])
    );
    for (const { group, first, last } of this.matched.values())
      groups[group]! += (last - first) / TICKS_PER_SECOND / wallSeconds;
    return { wallSeconds, machineCores: machine / TICKS_PER_SECOND / wallSeconds, groups };
  }

  private async sample(initial: boolean): Promise<void> {
    await this.readProcesses(initial);
    const groups: Record<string, number> = Object.fromEntries(
      Object.keys(this.groups).map(name => [name, 0])
    );
    for (const { group, first, last } of this.matched.values()) groups[group]! += last - first;
    this.samples.push({ atMs: Date.now(), machine: await machineBusyTicks(), groups });
  }

  private async readProcesses(initial: boolean): Promise<void> {
    let pids: string[];
    try {
      pids = (await readdir('/proc')).filter(name => /^\d+$/.test(name));
    } catch {
      return;
    }
    for (const pid of pids) {
      let commandLine = this.commandLines.get(pid);
      if (commandLine === undefined) {
        try {
          commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
        } catch {
          continue;
        }
        // A process still starting (exec not done) shows an empty command line: look again later.
        if (commandLine === '') continue;
        this.commandLines.set(pid, commandLine);
      }
      const known = this.matched.get(pid);
      if (known === undefined) {
        const group = Object.entries(this.groups).find(([, matches]) => matches(commandLine))?.[0];
        if (group === undefined) continue;
        const ticks = await processTicks(pid);
        if (ticks === undefined) continue;
        this.matched.set(pid, { group, first: initial ? ticks : 0, last: ticks });
      } else {
        const ticks = await processTicks(pid);
        if (ticks !== undefined) known.last = ticks;
      }
    }
  }
}
