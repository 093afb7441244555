import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type { Admin, Kafka } from 'kafkajs';
import { z } from 'zod';
import { TO_MIME_BUNDLE, type KernelPlugin, type MimeBundle } from '../kernel/api.js';
import { lagBundle } from './lag-bundle.js';
import { getDefaultPilotService } from '../pilot/index.js';
import {
  isTerminal,
  pilotIdSchema,
  problemsFromIssues,
  ValidationError,
  type KafkaLagView,
  type PilotRecord,
  type PilotState,
  type StateChange
} from '../protocol/index.js';
import { fetchKafkaLag } from './kafka-lag.js';
import { LagMonitor } from './lag-monitor.js';

/** What kafkaLag needs of a pilot (a Pilot from the service has all of it). */
export interface LagPilot {
  readonly id: string;
  readonly state: PilotState;
  getContext(): Promise<Kafka>;
  on(event: 'state', listener: (change: StateChange, record: PilotRecord) => void): unknown;
  off(event: 'state', listener: (change: StateChange, record: PilotRecord) => void): unknown;
}

const optionsSchema = z
  .object({
    topic: z.string().min(1),
    groupId: z.string().min(1),
    intervalMs: z.number().int().min(100).max(3_600_000).default(1000),
    historyLimit: z.number().int().min(2).max(100_000).default(300)
  })
  .strict();

export type KafkaLagOptions = z.input<typeof optionsSchema>;

function parseOptions(input: unknown): z.output<typeof optionsSchema> {
  const result = optionsSchema.safeParse(input);
  if (!result.success) {
    throw new ValidationError('kafkaLag options', problemsFromIssues(input, result.error.issues));
  }
  return result.data;
}

function pilotIdOf(pilot: unknown): string {
  const id = typeof pilot === 'string' ? pilot : (pilot as { id?: unknown } | null)?.id;
  const result = pilotIdSchema.safeParse(id);
  if (!result.success) {
    throw new ValidationError('kafkaLag pilot', [
      {
        key: 'pilot',
        value: id ?? pilot,
        expected: 'a Pilot or a pilot id such as "pilot-0123456789ab"'
      }
    ]);
  }
  return result.data;
}

/** Connects lazily to the pilot's broker, asks it for the lag, and hears when the pilot ends. */
class PilotLagSource {
  private pilot: LagPilot | undefined;
  private admin: Admin | undefined;
  private readonly onState = (change: StateChange) => {
    if (isTerminal(change.state)) this.onEnd(change.state);
  };

  constructor(
    private readonly resolvePilot: () => Promise<LagPilot>,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly onEnd: (state: PilotState) => void
  ) {}

  get pilotState(): PilotState | undefined {
    return this.pilot?.state;
  }

  async sample() {
    if (this.pilot === undefined) {
      this.pilot = await this.resolvePilot();
      this.pilot.on('state', this.onState);
    }
    if (this.admin === undefined) {
      const admin = (await this.pilot.getContext()).admin();
      await admin.connect();
      this.admin = admin;
    }
    return fetchKafkaLag(this.admin, this.topic, this.groupId);
  }

  async close(): Promise<void> {
    this.pilot?.off('state', this.onState);
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }
}

/** What `kafkaLag(...)` returns in a cell. */
export class KafkaLagMonitor {
  constructor(
    readonly displayId: string,
    private readonly monitor: LagMonitor
  ) {}

  /** The latest numbers shown in the widget. */
  get view(): KafkaLagView {
    return this.monitor.view;
  }

  /** Stops updating the widget; it keeps showing the last numbers, marked stopped. */
  async stop(): Promise<void> {
    await this.monitor.stop();
  }

  /** As a cell's result: what runs, and how to stop it (the widget itself is displayed already). */
  [TO_MIME_BUNDLE](): MimeBundle {
    return { 'text/plain': this[inspect.custom]() };
  }

  [inspect.custom](): string {
    const { topic, groupId } = this.monitor.view;
    const state = this.monitor.stopped ? 'stopped' : 'running; .stop() ends it';
    return `KafkaLagMonitor { topic: ${JSON.stringify(topic)}, groupId: ${JSON.stringify(groupId)}, ${state} }`;
  }
}

/**
 * Defines `kafkaLag(pilot | pilotId, { topic, groupId, intervalMs = 1000 })` in cells: shows the
 * live lag widget in the calling cell and keeps it updated until the pilot ends, the monitor
 * is stopped, or the kernel shuts down.
 */
export const monitoringKernelPlugin: KernelPlugin = kernel => {
  const active = new Set<KafkaLagMonitor>();

  function kafkaLag(pilot: LagPilot | string, options: KafkaLagOptions): KafkaLagMonitor {
    const pilotId = pilotIdOf(pilot);
    const { topic, groupId, intervalMs, historyLimit } = parseOptions(options);

    const endReason = (state: PilotState) => `pilot ${pilotId} is ${state}`;
    const source = new PilotLagSource(
      async () => (typeof pilot === 'string' ? getDefaultPilotService().getPilot(pilot) : pilot),
      topic,
      groupId,
      state => void monitor.stop(endReason(state))
    );

    const displayId = `kafka-lag-${randomUUID()}`;
    const monitor = new LagMonitor({
      pilotId,
      topic,
      groupId,
      intervalMs,
      historyLimit,
      sample: () => source.sample(),
      // Called only after start(), once the display exists.
      publish: view => handle.update(lagBundle(view)),
      stopReason: () => {
        const state = source.pilotState;
        return state !== undefined && isTerminal(state) ? endReason(state) : undefined;
      },
      onStop: async () => {
        active.delete(result);
        await source.close();
      }
    });
    const handle = kernel.display(lagBundle(monitor.view), { displayId });

    const result = new KafkaLagMonitor(displayId, monitor);
    active.add(result);
    monitor.start();
    return result;
  }

  kernel.defineGlobal('kafkaLag', kafkaLag);
  kernel.onShutdown(async () => {
    await Promise.all([...active].map(monitor => monitor.stop()));
  });
};
