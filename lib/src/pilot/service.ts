import { readdir, readFile } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { frameworkManager } from '../frameworks/index.js';
import type { ContextOptions, DashboardTarget, ProgressListener } from '../frameworks/plugin.js';
import {
  canTransition,
  isTerminal,
  parsePilotDescription,
  ValidationError,
  type JobHandle,
  type PilotDescription,
  type PilotDescriptionInput,
  type PilotRecord,
  type PilotState,
  type ValidationProblem
} from '../protocol/index.js';
import {
  parseSshTarget,
  RemoteConnectionPool,
  tunnelSocketFactory,
  type RemoteConnection
} from '../remote/index.js';
import { adaptorFor, type JobStatus } from '../resource/index.js';
import { defaultPilotCache, defaultPilotHome } from './environment.js';
import { pilotIdOfUnit, type UnitRecord } from '../protocol/index.js';
import { ComputeUnit, UnitWaitError } from './compute-unit.js';
import { Pilot, type PilotBackend } from './pilot.js';
import { ResourceHome, mirrored } from './resource-home.js';
import { UnitAccess, type AgentAccess } from './unit-access.js';
import { DamagedRecordError, RegistryWriteError } from './errors.js';
import { readEndNote, readJobFile, writeEndNote, writeJobFile } from './pilot-files.js';
import { applyTransition, newPilotId, newPilotRecord } from './record.js';
import { PilotRegistry } from './registry.js';
import { entryArguments, type EntryRole } from '../entry-points/roles.js';
import {
  commandOf,
  prepareInstallation,
  type Installation,
  type InstallationSettings
} from '../staging/index.js';

/** Time a supervisor gets to stop its framework and record Canceled before it is killed. */
export const CANCEL_GRACE_MS = 25_000;
/** A child first moves its partitions onto the parent's brokers: it gets longer. */
export const CHILD_CANCEL_GRACE_MS = 180_000;
/** A record still New this long after creation was never launched (its creator died). */
const LAUNCH_TIMEOUT_MS = 120_000;
/** Progress stage of a pilot whose job waits in the scheduler's queue. */
const QUEUED = 'Queued';
/** How long the check of a pilot on a resource reached over ssh stands for. */
const REMOTE_CHECK_MS = 1_000;
/** Slow poll behind fs.watch: catches dead supervisors, which write nothing. */
const MONITOR_POLL_MS = 2_000;

/** Environment variables a supervisor needs; nothing else of the caller's leaks into it. */
const INHERITED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'JAVA_HOME',
  // The JVM's own way to take options (heap dumps, trust stores, JIT limits) for the framework.
  'JAVA_TOOL_OPTIONS'
];

/** The keys of `source` among `keys` that are set. */
function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) picked[key] = source[key];
  return picked;
}

function sameJob(a: JobHandle | undefined, b: JobHandle | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.jobId === b.jobId && a.pidStartTime === b.pidStartTime
  );
}

/** A pilot listed as last recorded, because its resource could not be asked now. */
export interface UncheckedPilot {
  pilotId: string;
  reason: string;
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
  private readonly remoteChecks = new Map<string, { at: number; checked: Promise<PilotRecord> }>();
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private scannedOnce = false;

  private readonly units: UnitAccess;
  /** ssh connections of this service, closed by close(). */
  private readonly pool = new RemoteConnectionPool();
  private readonly remote: { home?: string; installation: InstallationSettings };

  /**
   * `remote` says where things are on resources reached over ssh; each setting defaults to its
   * environment variable: `home` PILOT_STREAMING_REMOTE_HOME (else ~/.pilot-streaming there),
   * `node` PILOT_STREAMING_REMOTE_NODE (else the resource's own node when new enough, else one
   * staged from the npm registry), `lib` PILOT_STREAMING_REMOTE_LIB (an installed library's
   * package directory there; else this library's bundle, staged), `cacheDir`
   * PILOT_STREAMING_REMOTE_CACHE (else <home>/cache there; what is staged goes there).
   */
  constructor(
    options: {
      home?: string;
      cacheDir?: string;
      remote?: { home?: string; node?: string; lib?: string; cacheDir?: string };
    } = {}
  ) {
    // Absolute once: supervisors run in the pilots' directories, not in this one.
    this.home = resolve(options.home ?? defaultPilotHome());
    this.cacheDir = resolve(options.cacheDir ?? defaultPilotCache());
    this.registry = new PilotRegistry(this.home);
    const remote = options.remote ?? {};
    const env = process.env;
    const setting = (value: string | undefined, variable: string): string | undefined =>
      (value ?? env[variable]) || undefined;
    const home = setting(remote.home, 'PILOT_STREAMING_REMOTE_HOME');
    const node = setting(remote.node, 'PILOT_STREAMING_REMOTE_NODE');
    const lib = setting(remote.lib, 'PILOT_STREAMING_REMOTE_LIB');
    const cacheDir = setting(remote.cacheDir, 'PILOT_STREAMING_REMOTE_CACHE');
    this.remote = {
      ...(home !== undefined ? { home } : {}),
      installation: {
        ...(node !== undefined ? { node } : {}),
        ...(lib !== undefined ? { lib } : {}),
        ...(cacheDir !== undefined ? { cacheDir } : {})
      }
    };
    this.units = new UnitAccess(
      id => this.observe(id),
      record => this.agentAccess(record)
    );
    this.backend = {
      units: this.units,
      observe: id => this.observe(id),
      cancel: record => this.cancelRecord(record),
      createContext: record => this.createContext(record),
      openDashboard: record => this.openDashboard(record),
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
      problems.push(...(await this.parentProblems(description)));
    }
    if (problems.length > 0) throw new ValidationError('pilot description', problems);
    const adaptor = adaptorFor(description.resource, { pool: this.pool });

    onProgress({ stage: `Connecting to ${description.resource}`, fraction: 0 });
    const connection = this.connectionOf(description.resource);
    const resourceHome =
      connection !== undefined ? await ResourceHome.open(connection, this.remote.home) : undefined;
    // Before anything is recorded: a resource that cannot get what it needs leaves no pilot.
    const installation =
      connection !== undefined && resourceHome !== undefined
        ? (
            await prepareInstallation(connection, {
              settings: this.remote.installation,
              resourceHome: resourceHome.path,
              localCacheDir: this.cacheDir,
              distribution: await manager.distribution(onProgress),
              onProgress
            })
          ).installation
        : undefined;
    const id = newPilotId();
    const record: PilotRecord = {
      ...newPilotRecord(id, description, new Date()),
      workDir: resourceHome?.workDirOf(id) ?? this.registry.workDirOf(id),
      ...(resourceHome !== undefined
        ? { resourceHome: resourceHome.path, mirroredRevision: 1 }
        : {})
    };
    onProgress({ stage: 'Recording the pilot', fraction: 0.2 });
    await this.registry.create(record);
    const workDir = record.workDir!;

    onProgress({ stage: `Launching the pilot on ${description.resource}`, fraction: 0.5 });
    let job: JobHandle;
    try {
      await resourceHome?.create(record);
      job = await adaptor.launch({
        pilotId: id,
        workDir,
        ...this.supervisorLaunch(id, resourceHome, installation),
        stdoutPath: posix.join(workDir, 'supervisor.out'),
        stderrPath: posix.join(workDir, 'supervisor.log'),
        resources: {
          numberOfNodes: description.numberOfNodes,
          walltimeMinutes: description.walltimeMinutes,
          // A pilot holds whole nodes: its framework and units are what runs there.
          exclusive: true,
          ...pick(description, [
            'coresPerNode',
            'queue',
            'project',
            'reservation',
            'schedulerOptions'
          ])
        }
      });
    } catch (error) {
      await this.registry.transition(id, 'Failed', {
        reason: `launch failed: ${(error as Error).message}`
      });
      throw error;
    }
    // The supervisor may have recorded Pending (and its job) first; then only the job is missing.
    const launched = await this.registry.update(id, current => {
      if (current.state === 'New')
        return applyTransition({ ...current, job }, 'Pending', { now: new Date() });
      return current.job === undefined ? { ...current, job } : undefined;
    });
    // Kept beside the record: a pilot whose record gets damaged can still be stopped.
    await writeJobFile(this.registry.workDirOf(id), description.resource, job, installation).catch(
      (error: unknown) => {
        throw new Error(
          `Pilot ${id} is launched (job ${job.jobId}), but its job file cannot be written: ${(error as Error).message}`,
          { cause: error }
        );
      }
    );
    onProgress({ stage: 'Launched', fraction: 1 });
    return this.pilotFor(launched);
  }

  /** Reattaches to a pilot by id (from any process); PilotNotFoundError if there is none. */
  async getPilot(id: string): Promise<Pilot> {
    return this.pilotFor(await this.observe(id));
  }

  /** The pilots of the registry (see inventory() for the records that cannot be read). */
  async listPilots(): Promise<Pilot[]> {
    return (await this.inventory()).pilots;
  }

  /**
   * The pilots of the registry, the registry files that hold no usable record, and the pilots
   * that could not be checked now (their resource did not answer): those are listed as last
   * recorded, so one unreachable host does not hide every other pilot.
   */
  async inventory(): Promise<{
    pilots: Pilot[];
    damaged: DamagedRecordError[];
    unchecked: UncheckedPilot[];
  }> {
    const { records, damaged } = await this.registry.survey();
    const unchecked: UncheckedPilot[] = [];
    const observed = await Promise.all(
      records.map(record =>
        this.check(record).catch((error: unknown) => {
          unchecked.push({
            pilotId: record.id,
            reason: error instanceof Error ? error.message : String(error)
          });
          return record;
        })
      )
    );
    return { pilots: observed.map(record => this.pilotFor(record)), damaged, unchecked };
  }

  /**
   * Cancels a pilot by id and returns its record. A pilot whose record is damaged is stopped
   * from its job file (see pilot-files.ts); its record stays as it is, and the result says so.
   */
  async cancelPilot(id: string): Promise<{
    id: string;
    state: PilotState;
    /** The pilot had ended before (nothing was stopped). */
    alreadyEnded: boolean;
    record?: PilotRecord;
    damaged?: DamagedRecordError;
  }> {
    let pilot: Pilot;
    try {
      pilot = await this.getPilot(id);
    } catch (error) {
      if (!(error instanceof DamagedRecordError)) throw error;
      await this.cancelDamaged(error);
      return { id, state: 'Canceled', alreadyEnded: false, damaged: error };
    }
    const alreadyEnded = isTerminal(pilot.state);
    await pilot.cancel();
    return { id, state: pilot.state, alreadyEnded, record: pilot.record };
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
    // Contexts that hold a process (a Dask bridge) end with the service.
    await Promise.all([...this.pilots.values()].map(pilot => pilot.closeContext()));
    this.units.close();
    this.listeners.clear();
    this.retained = 0;
    this.monitor?.close();
    this.monitor = undefined;
    await this.scanning;
    await this.pool.closeAll();
  }

  /**
   * The command that runs one of this library's programs (e.g. "miniapps-unit") as a compute
   * unit on the pilot's nodes: this installation on resources sharing this machine's files, the
   * one the pilot was launched with on resources reached over ssh.
   */
  async libraryCommand(record: PilotRecord, role: EntryRole): Promise<string[]> {
    if (record.resourceHome === undefined) return [process.execPath, ...entryArguments(role)];
    const installation = (await readJobFile(this.registry.workDirOf(record.id)))?.installation;
    if (installation === undefined) {
      throw new Error(
        `Pilot ${record.id}'s job file does not say how the library runs on ${record.description.resource}`
      );
    }
    return commandOf(installation, role);
  }

  /**
   * Where this client keeps a pilot's Mini-App run records: in its work directory when that is
   * on this machine's file system, else in the pilot's directory of the local home.
   */
  runRecordDirectory(record: PilotRecord): string {
    const local = record.resourceHome === undefined && record.workDir !== undefined;
    return join(local ? record.workDir! : this.registry.workDirOf(record.id), 'miniapps');
  }

  /** The ssh connection for a resource reached over ssh (ssh://, slurm+ssh://). */
  private connectionOf(resource: string): RemoteConnection | undefined {
    const scheme = new URL(resource).protocol;
    if (scheme !== 'ssh:' && scheme !== 'slurm+ssh:') return undefined;
    return this.pool.get(parseSshTarget(resource));
  }

  /** The supervisor's command and environment on the pilot's resource. */
  private supervisorLaunch(
    id: string,
    resourceHome: ResourceHome | undefined,
    installation: Installation | undefined
  ): { command: string[]; env: Record<string, string> } {
    if (resourceHome === undefined || installation === undefined) {
      // This machine (or a SLURM cluster sharing its file system): our own installation.
      const env: Record<string, string> = {};
      for (const key of INHERITED_ENV) {
        const value = process.env[key];
        if (value !== undefined) env[key] = value;
      }
      return {
        command: [process.execPath, ...entryArguments('supervisor'), id],
        env: { ...env, PILOT_STREAMING_HOME: this.home, PILOT_STREAMING_CACHE: this.cacheDir }
      };
    }
    // Another host: its own environment, plus where the pilot home and the Kafka cache are.
    return {
      command: [...commandOf(installation, 'supervisor'), id],
      env: { PILOT_STREAMING_HOME: resourceHome.path, PILOT_STREAMING_CACHE: installation.cacheDir }
    };
  }

  /** A parent must exist, be Running, run the same framework and live on the same resource. */
  private async parentProblems(description: PilotDescription): Promise<ValidationProblem[]> {
    const parent = await this.observe(description.parent!);
    const problems: ValidationProblem[] = [];
    if (parent.state !== 'Running') {
      problems.push({
        key: 'parent',
        value: parent.id,
        expected: `a Running pilot (it is ${parent.state})`
      });
    }
    if (parent.description.type !== description.type) {
      problems.push({
        key: 'parent',
        value: parent.id,
        expected: `a ${description.type} pilot (it runs ${parent.description.type})`
      });
    }
    if (parent.description.resource !== description.resource) {
      problems.push({
        key: 'resource',
        value: description.resource,
        expected: `the parent's resource ${parent.description.resource}: a child adds nodes to its parent's cluster`
      });
    }
    if (!/^slurm(\+ssh)?:/.test(description.resource)) {
      problems.push({
        key: 'parent',
        value: parent.id,
        expected:
          'no parent on a single-host resource: extending a cluster needs a batch scheduler (slurm:// or slurm+ssh://)'
      });
    }
    return problems;
  }

  /** How to read a pilot's agent secret and reach its agents (over ssh for remote pilots). */
  private agentAccess(record: PilotRecord): AgentAccess {
    const connection = this.connectionOf(record.description.resource);
    if (connection === undefined) {
      return { readFile: path => readFile(path), readdir: path => readdir(path) };
    }
    return {
      readFile: path => connection.readFile(path),
      readdir: path => connection.readdir(path),
      connect: (host, port) => connection.forwardOut(host, port)
    };
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
  private async check(known: PilotRecord): Promise<PilotRecord> {
    if (isTerminal(known.state)) return known;
    // Remote checks cost round trips over ssh: callers in a loop (submitting units) share one.
    if (known.resourceHome !== undefined) {
      const last = this.remoteChecks.get(known.id);
      if (last !== undefined && Date.now() - last.at < REMOTE_CHECK_MS) {
        const checked = await last.checked;
        // Another process may have written since (a cancel, say): the newer record wins.
        return checked.revision >= known.revision ? checked : known;
      }
      const checked = this.checkNow(known);
      this.remoteChecks.set(known.id, { at: Date.now(), checked });
      checked.catch(() => this.remoteChecks.delete(known.id));
      return checked;
    }
    return this.checkNow(known);
  }

  private async checkNow(known: PilotRecord): Promise<PilotRecord> {
    let record = await this.mirror(known);
    if (isTerminal(record.state)) return record;
    const job = record.job;
    if (job === undefined) {
      if (Date.now() - Date.parse(record.createdAt) < LAUNCH_TIMEOUT_MS) return record;
      return this.recordObserved(record, current =>
        !isTerminal(current.state) && current.job === undefined
          ? applyTransition(current, 'Failed', {
              reason: `never launched within ${LAUNCH_TIMEOUT_MS / 1000} s (its creating process ended?)`,
              now: new Date()
            })
          : undefined
      );
    }
    const adaptor = adaptorFor(record.description.resource, { pool: this.pool });
    // Where there is a scheduler, one query says whether the job lives, why it waits in the
    // queue, or why it ended without its supervisor recording it (e.g. scancel from outside
    // ended it before the supervisor could write, or the node failed).
    const status = await adaptor.status?.(job);
    const alive =
      adaptor.status !== undefined
        ? status !== undefined && !isTerminal(status.state)
        : await adaptor.isAlive(job);
    if (alive) return this.showQueueing(record, status);
    // The supervisor may have recorded its end on the resource just before its job ended.
    record = await this.mirror(record);
    if (isTerminal(record.state)) return record;
    // An end its supervisor (or a cancel) could not record, noted beside the registry.
    const note = await readEndNote(this.registry.workDirOf(record.id));
    const state = note?.state ?? (status?.state === 'Canceled' ? 'Canceled' : 'Failed');
    const reason =
      note !== undefined
        ? note.reason
        : status !== undefined && isTerminal(status.state)
          ? `${status.reason ?? status.nativeState} (the pilot's supervisor recorded no end; see ${posix.join(record.workDir ?? '', 'supervisor.log')})`
          : `the pilot's supervisor (job ${job.jobId} on ${job.host}) is gone without recording an end; see ${posix.join(record.workDir ?? this.registry.workDirOf(record.id), 'supervisor.log')}`;
    const updated = await this.recordObserved(record, current =>
      !isTerminal(current.state) && sameJob(current.job, job)
        ? // A noted Done (walltime) before Running is a failure to start in time.
          applyTransition(current, canTransition(current.state, state) ? state : 'Failed', {
            reason,
            now: new Date()
          })
        : undefined
    );
    // Whatever the supervisor started (the broker) must not outlive it.
    await adaptor.terminate(job, 5_000);
    return updated;
  }

  /**
   * While the scheduler holds the job in its queue (its supervisor has not started yet), the
   * pilot's progress says so and why ("SLURM job 12 is PENDING (reason Resources)").
   */
  private async showQueueing(
    record: PilotRecord,
    status: JobStatus | undefined
  ): Promise<PilotRecord> {
    if (record.state !== 'Pending' || status?.state !== 'Pending') return record;
    if (record.progress !== undefined && !record.progress.stage.startsWith(QUEUED)) return record;
    const stage = `${QUEUED}: ${status.reason ?? status.nativeState}`;
    if (record.progress?.stage === stage) return record;
    return this.recordObserved(record, current =>
      current.state === 'Pending' &&
      (current.progress === undefined || current.progress.stage.startsWith(QUEUED))
        ? { ...current, progress: { stage } }
        : undefined
    );
  }

  /** For a pilot on a resource reached over ssh: the local record with the resource's news. */
  private async mirror(record: PilotRecord): Promise<PilotRecord> {
    if (record.resourceHome === undefined) return record;
    const connection = this.connectionOf(record.description.resource);
    if (connection === undefined) return record;
    const remote = await ResourceHome.at(connection, record.resourceHome).read(record.id);
    if (mirrored(record, remote) === undefined) return record;
    return this.recordObserved(record, current =>
      isTerminal(current.state) ? undefined : mirrored(current, remote)
    );
  }

  private async cancelRecord(known: PilotRecord): Promise<PilotRecord> {
    // Children run brokers in this pilot's cluster and cannot outlive it: they go first.
    const children = (await this.registry.list()).filter(
      other => other.description.parent === known.id && !isTerminal(other.state)
    );
    for (const child of children) await this.cancelRecord(child);
    let record = await this.check(await this.registry.read(known.id));
    if (isTerminal(record.state)) return record;
    if (record.job !== undefined) {
      await adaptorFor(record.description.resource, { pool: this.pool }).terminate(
        record.job,
        record.description.parent !== undefined ? CHILD_CANCEL_GRACE_MS : CANCEL_GRACE_MS
      );
      // What the supervisor recorded as it stopped (on the resource) is the better reason.
      record = await this.mirror(record);
    }
    try {
      return await this.registry.update(record.id, current =>
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
    } catch (error) {
      if (!(error instanceof RegistryWriteError)) throw error;
      // The processes are stopped: keep that truth where the next writable check finds it.
      const noted = await writeEndNote(
        this.registry.workDirOf(record.id),
        'Canceled',
        'canceled while the registry was not writable'
      ).then(
        path => `it will show Canceled once the registry is writable again (noted in ${path})`,
        (noteError: unknown) => `nor could it be noted: ${(noteError as Error).message}`
      );
      throw new RegistryWriteError(
        `record that pilot ${record.id} is Canceled (its processes are stopped; ${noted})`,
        error.path,
        error.cause
      );
    }
  }

  /** Stops a pilot whose record is damaged, from its job file in its work directory. */
  private async cancelDamaged(damaged: DamagedRecordError): Promise<void> {
    const workDir = this.registry.workDirOf(damaged.pilotId);
    const launched = await readJobFile(workDir);
    if (launched === undefined) {
      throw new Error(
        `${damaged.message}; and there is no job file in ${workDir} to find its processes from`,
        { cause: damaged }
      );
    }
    await adaptorFor(launched.resource, { pool: this.pool }).terminate(
      launched.job,
      CANCEL_GRACE_MS
    );
    await writeEndNote(workDir, 'Canceled', 'canceled while its record was damaged');
  }

  /**
   * Writes what a read found out (a dead supervisor, a queued job, a resource's news). In a
   * registry this user cannot write, the read still shows it, marked as not recorded.
   */
  private async recordObserved(
    record: PilotRecord,
    change: (current: PilotRecord) => PilotRecord | undefined
  ): Promise<PilotRecord> {
    try {
      return await this.registry.update(record.id, change);
    } catch (error) {
      if (!(error instanceof RegistryWriteError)) throw error;
      const seen = change(structuredClone(record));
      if (seen === undefined) return record;
      const note = `not recorded: ${error.message}`;
      return { ...seen, reason: seen.reason !== undefined ? `${seen.reason} (${note})` : note };
    }
  }

  private async createContext(record: PilotRecord): Promise<unknown> {
    if (record.details === undefined) throw new Error(`Pilot ${record.id} has no details`);
    const manager = frameworkManager(record.description.type, { cacheDir: this.cacheDir });
    return await manager.getContext(record.details, this.contextOptions(record));
  }

  private async openDashboard(record: PilotRecord): Promise<DashboardTarget | undefined> {
    if (record.details === undefined) return undefined;
    const manager = frameworkManager(record.description.type, { cacheDir: this.cacheDir });
    return await manager.dashboard?.(record.details, this.contextOptions(record));
  }

  /** How a client here reaches a pilot's framework and reads its credentials. */
  private contextOptions(record: PilotRecord): ContextOptions {
    // Endpoints on a resource reached over ssh are reached through that connection.
    const connection = this.connectionOf(record.description.resource);
    // Its credentials (a TLS pilot's client certificate) are read from its work directory.
    return {
      ...(record.workDir !== undefined ? { workDir: record.workDir } : {}),
      ...(connection !== undefined
        ? {
            socketFactory: tunnelSocketFactory(connection),
            readPilotFile: path => connection.readFile(path),
            startProcess: argv => connection.spawn(argv)
          }
        : { readPilotFile: path => readFile(path) })
    };
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
