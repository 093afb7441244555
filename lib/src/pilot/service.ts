import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { frameworkManager } from '../frameworks/index.js';
import type { ProgressListener } from '../frameworks/plugin.js';
import {
  isTerminal,
  parsePilotDescription,
  ValidationError,
  type JobHandle,
  type PilotDescriptionInput,
  type PilotRecord
} from '../protocol/index.js';
import { adaptorFor } from '../resource/index.js';
import { defaultPilotCache, defaultPilotHome } from './environment.js';
import type { ConnectFactory } from '../agent/channel.js';
import { pilotIdOfUnit, type UnitRecord } from '../protocol/index.js';
import { ComputeUnit, UnitWaitError } from './compute-unit.js';
import { Pilot, type PilotBackend } from './pilot.js';
import { UnitAccess } from './unit-access.js';
import { applyTransition, newPilotId, newPilotRecord } from './record.js';
import { PilotRegistry } from './registry.js';

/** Time a supervisor gets to stop its framework and record Canceled before it is killed. */
export const CANCEL_GRACE_MS = 25_000;
/** A record still New this long after creation was never launched (its creator died). */
const LAUNCH_TIMEOUT_MS = 120_000;
/** Slow poll behind fs.watch: catches dead supervisors, which write nothing. */
const MONITOR_POLL_MS = 2_000;

/** Environment variables a supervisor needs; nothing else of the caller's leaks into it. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'JAVA_HOME'];

/** The compiled supervisor entry, also when this module runs from source under a test runner. */
function supervisorEntry(): string {
  const beside = fileURLToPath(new URL('./supervisor/main.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const compiled = beside.replace(/([/\\])src([/\\])pilot([/\\])/, '$1dist$2pilot$3');
  if (existsSync(compiled)) return compiled;
  throw new Error(`The pilot supervisor is not built (${compiled}); run "npm run build -w lib"`);
}

function sameJob(a: JobHandle | undefined, b: JobHandle | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.jobId === b.jobId && a.pidStartTime === b.pidStartTime
  );
}

/** Creates pilots, and finds those any process created, through the durable registry. */
export class PilotComputeService {
  readonly home: string;
  readonly cacheDir: string;
  readonly registry: PilotRegistry;
  private readonly pilots = new Map<string, Pilot>();
  private readonly listeners = new Set<(records: PilotRecord[]) => void>();
  private readonly backend: PilotBackend;
  private retained = 0;
  private monitor: { close(): void } | undefined;
  private revisions = new Map<string, number>();
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private scannedOnce = false;

  private readonly units: UnitAccess;

  /** `connect` opens the path to a pilot agent's host:port (default: direct TCP). */
  constructor(options: { home?: string; cacheDir?: string; connect?: ConnectFactory } = {}) {
    this.home = options.home ?? defaultPilotHome();
    this.cacheDir = options.cacheDir ?? defaultPilotCache();
    this.registry = new PilotRegistry(this.home);
    this.units = new UnitAccess(id => this.observe(id), options.connect);
    this.backend = {
      units: this.units,
      observe: id => this.observe(id),
      cancel: record => this.cancelRecord(record),
      createContext: record => this.createContext(record),
      retain: () => this.retain(),
      release: () => this.release()
    };
  }

  /**
   * Validates the description (a ValidationError and nothing written when it is bad), records
   * the pilot and launches its supervisor. Resolves once launched (Pending), not once Running.
   */
  async createPilot(
    input: PilotDescriptionInput,
    options: { onProgress?: ProgressListener } = {}
  ): Promise<Pilot> {
    const onProgress = options.onProgress ?? ((): void => undefined);
    const description = parsePilotDescription(input);
    const manager = frameworkManager(description.type, { cacheDir: this.cacheDir });
    const problems = manager.validate(description);
    if (description.parent !== undefined) {
      await this.registry.read(description.parent);
      problems.push({
        key: 'parent',
        value: description.parent,
        expected: `no parent: extending a running ${description.type} pilot is not supported yet`
      });
    }
    // The ssh and SLURM adaptors exist, but the supervisor does not yet run remotely (issue 3):
    // refuse before anything is recorded rather than fail half-way.
    if (!description.resource.startsWith('fork:')) {
      problems.push({
        key: 'resource',
        value: description.resource,
        expected:
          'fork://localhost for now: pilots on ssh://, slurm:// and slurm+ssh:// resources are not available yet'
      });
    }
    if (problems.length > 0) throw new ValidationError('pilot description', problems);
    const adaptor = adaptorFor(description.resource);
    const command = [process.execPath, supervisorEntry()];

    onProgress({ stage: 'Recording the pilot', fraction: 0 });
    const id = newPilotId();
    const workDir = this.registry.workDirOf(id);
    await this.registry.create({ ...newPilotRecord(id, description, new Date()), workDir });

    onProgress({ stage: `Launching the pilot on ${description.resource}`, fraction: 0.5 });
    let job: JobHandle;
    try {
      const env: Record<string, string> = {};
      for (const key of INHERITED_ENV) {
        const value = process.env[key];
        if (value !== undefined) env[key] = value;
      }
      job = await adaptor.launch({
        pilotId: id,
        workDir,
        command: [...command, id],
        env: { ...env, PILOT_STREAMING_HOME: this.home, PILOT_STREAMING_CACHE: this.cacheDir },
        stdoutPath: join(workDir, 'supervisor.out'),
        stderrPath: join(workDir, 'supervisor.log')
      });
    } catch (error) {
      await this.registry.transition(id, 'Failed', {
        reason: `launch failed: ${(error as Error).message}`
      });
      throw error;
    }
    // The supervisor may have recorded Pending (and its job) first; then only the job is missing.
    const record = await this.registry.update(id, current => {
      if (current.state === 'New')
        return applyTransition({ ...current, job }, 'Pending', { now: new Date() });
      return current.job === undefined ? { ...current, job } : undefined;
    });
    onProgress({ stage: 'Launched', fraction: 1 });
    return this.pilotFor(record);
  }

  /** Reattaches to a pilot by id (from any process); PilotNotFoundError if there is none. */
  async getPilot(id: string): Promise<Pilot> {
    return this.pilotFor(await this.observe(id));
  }

  async listPilots(): Promise<Pilot[]> {
    const records = await this.registry.list();
    const observed = await Promise.all(records.map(record => this.check(record)));
    return observed.map(record => this.pilotFor(record));
  }

  /** Calls `listener` with all records soon after any change by any process. */
  watch(listener: (records: PilotRecord[]) => void): { close(): void } {
    this.listeners.add(listener);
    this.retain();
    let closed = false;
    return {
      close: () => {
        if (closed) return;
        closed = true;
        this.listeners.delete(listener);
        this.release();
      }
    };
  }

  /** Reattaches to a compute unit by id (from any process). */
  async getUnit(id: string): Promise<ComputeUnit> {
    const pilotId = pilotIdOfUnit(id);
    if (pilotId === undefined) {
      throw new ValidationError('compute unit id', [
        { key: 'id', value: id, expected: 'a unit id such as "pilot-0123456789ab.unit-0123456789"' }
      ]);
    }
    return this.units.get(pilotId, id);
  }

  /**
   * Waits until every unit has ended (Done, Failed or Canceled) and returns their records;
   * throws UnitWaitError naming the units still open when `timeoutMs` passes.
   */
  async waitAll(
    units: readonly ComputeUnit[],
    options: { timeoutMs?: number } = {}
  ): Promise<UnitRecord[]> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const records = await this.units.wait(
      units.map(unit => unit.record),
      timeoutMs
    );
    records.forEach((record, index) => units[index]!.apply(record));
    const open = records.filter(record => !isTerminal(record.state));
    if (open.length > 0) {
      throw new UnitWaitError(
        `Timed out after ${timeoutMs / 1000} s: ${open.length} of ${records.length} compute units have not ended (${open
          .slice(0, 5)
          .map(record => `${record.id} ${record.state}`)
          .join(', ')}${open.length > 5 ? ', ...' : ''})`,
        records
      );
    }
    return records;
  }

  async close(): Promise<void> {
    this.units.close();
    this.listeners.clear();
    this.retained = 0;
    this.monitor?.close();
    this.monitor = undefined;
    await this.scanning;
  }

  private pilotFor(record: PilotRecord): Pilot {
    let pilot = this.pilots.get(record.id);
    if (pilot === undefined) {
      pilot = new Pilot(record, this.backend);
      this.pilots.set(record.id, pilot);
    } else {
      pilot.apply(record);
    }
    return pilot;
  }

  private async observe(id: string): Promise<PilotRecord> {
    return this.check(await this.registry.read(id));
  }

  /**
   * The true state of a record: a Pending/Running pilot whose supervisor is gone (pid and start
   * time checked, so a reused pid does not count) becomes Failed, and what it left is stopped.
   */
  private async check(record: PilotRecord): Promise<PilotRecord> {
    if (isTerminal(record.state)) return record;
    const job = record.job;
    if (job === undefined) {
      if (Date.now() - Date.parse(record.createdAt) < LAUNCH_TIMEOUT_MS) return record;
      return this.registry.update(record.id, current =>
        !isTerminal(current.state) && current.job === undefined
          ? applyTransition(current, 'Failed', {
              reason: `never launched within ${LAUNCH_TIMEOUT_MS / 1000} s (its creating process ended?)`,
              now: new Date()
            })
          : undefined
      );
    }
    const adaptor = adaptorFor(record.description.resource);
    if (await adaptor.isAlive(job)) return record;
    const updated = await this.registry.update(record.id, current =>
      !isTerminal(current.state) && sameJob(current.job, job)
        ? applyTransition(current, 'Failed', {
            reason: `the pilot's supervisor (pid ${job.jobId} on ${job.host}) is gone without recording an end; see ${join(record.workDir ?? this.registry.workDirOf(record.id), 'supervisor.log')}`,
            now: new Date()
          })
        : undefined
    );
    // Whatever the supervisor started (the broker) must not outlive it.
    await adaptor.terminate(job, 5_000);
    return updated;
  }

  private async cancelRecord(known: PilotRecord): Promise<PilotRecord> {
    const record = await this.check(await this.registry.read(known.id));
    if (record.job !== undefined) {
      await adaptorFor(record.description.resource).terminate(record.job, CANCEL_GRACE_MS);
    }
    return this.registry.update(record.id, current =>
      isTerminal(current.state)
        ? undefined
        : applyTransition(current, 'Canceled', {
            reason:
              current.job === undefined
                ? 'canceled before it was launched'
                : 'canceled; its supervisor was stopped before it recorded the end',
            now: new Date()
          })
    );
  }

  private async createContext(record: PilotRecord): Promise<Kafka> {
    if (record.details === undefined) throw new Error(`Pilot ${record.id} has no details`);
    const manager = frameworkManager(record.description.type, { cacheDir: this.cacheDir });
    return (await manager.getContext(record.details)) as Kafka;
  }

  private retain(): void {
    this.retained += 1;
    if (this.monitor !== undefined) return;
    void this.scan();
    const watcher = this.registry.watch(() => void this.scan());
    const timer = setInterval(() => void this.scan(), MONITOR_POLL_MS);
    timer.unref();
    this.monitor = {
      close: () => {
        watcher.close();
        clearInterval(timer);
      }
    };
  }

  private release(): void {
    this.retained = Math.max(0, this.retained - 1);
    if (this.retained === 0) {
      this.monitor?.close();
      this.monitor = undefined;
    }
  }

  /** One pass over the registry: update known pilots, tell listeners if anything changed. */
  private scan(): Promise<void> {
    if (this.scanning !== undefined) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        try {
          await this.scanOnce();
        } catch (error) {
          console.error(`pilot registry scan failed: ${(error as Error).message}`);
        }
      } while (this.rescan && this.monitor !== undefined);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    await this.registry.ensureDirectory();
    const records = await Promise.all((await this.registry.list()).map(r => this.check(r)));
    const revisions = new Map(records.map(record => [record.id, record.revision]));
    const changed =
      revisions.size !== this.revisions.size ||
      [...revisions].some(([id, revision]) => this.revisions.get(id) !== revision);
    // The first pass only learns what is there; listeners hear of changes after it.
    const baseline = !this.scannedOnce;
    this.scannedOnce = true;
    this.revisions = revisions;
    for (const record of records) this.pilots.get(record.id)?.apply(record);
    if (changed && !baseline) for (const listener of [...this.listeners]) listener(records);
  }
}
