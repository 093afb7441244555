import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import type { Admin } from 'kafkajs';
import { z } from 'zod';
import { TO_MIME_BUNDLE, type KernelPlugin, type MimeBundle } from '../kernel/api.js';
import { getDefaultPilotService, PilotNotFoundError } from '../pilot/index.js';
import {
  isTerminal,
  pilotIdSchema,
  problemsFromIssues,
  ValidationError,
  type KafkaLagView,
  type PilotState,
  type StateChange
} from '../protocol/index.js';
import { fetchKafkaLag } from './kafka-lag.js';
import { lagBundle } from './lag-bundle.js';
import { LagMonitor, type LagMonitorEnd } from './lag-monitor.js';
import { assertMonitorable, findLagPilot, type LagPilot } from './lag-pilot.js';

export type { LagPilot } from './lag-pilot.js';

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
  private admin: Admin | undefined;
  private readonly onState = (change: StateChange) => {
    if (isTerminal(change.state)) this.onEnd({ pilotEnded: change.state });
  };

  constructor(
    private readonly pilot: LagPilot,
    private readonly topic: string,
    private readonly groupId: string,
    private readonly onEnd: (end: LagMonitorEnd) => void
  ) {
    pilot.on('state', this.onState);
  }

  /** The pilot's state if it has ended. */
  get pilotEnded(): PilotState | undefined {
    return isTerminal(this.pilot.state) ? this.pilot.state : undefined;
  }

  async sample() {
    if (this.admin === undefined) {
      let kafka;
      try {
        kafka = await this.pilot.getContext();
      } catch (error) {
        // Its record is gone: nothing will bring it back, so monitoring ends.
        if (error instanceof PilotNotFoundError) this.onEnd({ error: error.message });
        throw error;
      }
      // The monitor retries at its own pace; kafkajs retrying too would only add log lines.
      const admin = kafka.admin({ retry: { retries: 0 } });
      await admin.connect();
      this.admin = admin;
    }
    return fetchKafkaLag(this.admin, this.topic, this.groupId);
  }

  async close(): Promise<void> {
    this.pilot.off('state', this.onState);
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
 * `kafkaLag(pilot, options)` in cells. With a Pilot in hand there is nothing to look up: it
 * returns the monitor at once (its widget shows in the calling cell). With a pilot id it looks
 * the pilot up first and returns a promise of the monitor, which rejects at once, naming the
 * pilots that exist, when there is no such pilot. Bad options and a pilot that has ended fail
 * at the call.
 */
export interface KafkaLagFunction {
  (pilot: LagPilot, options: KafkaLagOptions): KafkaLagMonitor;
  (pilotId: string, options: KafkaLagOptions): Promise<KafkaLagMonitor>;
}

/**
 * Defines `kafkaLag(pilot | pilotId, { topic, groupId, intervalMs = 1000 })` in cells: shows the
 * live lag widget in the calling cell and keeps it updated until the pilot ends, the monitor
 * is stopped, or the kernel shuts down.
 */
export const monitoringKernelPlugin: KernelPlugin = kernel => {
  const active = new Set<KafkaLagMonitor>();

  function startMonitor(
    pilot: LagPilot,
    { topic, groupId, intervalMs, historyLimit }: z.output<typeof optionsSchema>
  ): KafkaLagMonitor {
    const source = new PilotLagSource(pilot, topic, groupId, end => void monitor.stop(end));
    const displayId = `kafka-lag-${randomUUID()}`;
    const monitor = new LagMonitor({
      pilotId: pilot.id,
      topic,
      groupId,
      intervalMs,
      historyLimit,
      sample: () => source.sample(),
      // Called only after start(), once the display exists.
      publish: view => handle.update(lagBundle(view)),
      pilotEnded: () => source.pilotEnded,
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

  function kafkaLag(
    pilot: LagPilot | string,
    options: KafkaLagOptions
  ): KafkaLagMonitor | Promise<KafkaLagMonitor> {
    const pilotId = pilotIdOf(pilot);
    const parsed = parseOptions(options);
    if (typeof pilot === 'string') {
      return findLagPilot(getDefaultPilotService(), pilotId).then(found =>
        startMonitor(found, parsed)
      );
    }
    assertMonitorable(pilot);
    return startMonitor(pilot, parsed);
  }

  kernel.defineGlobal('kafkaLag', kafkaLag as KafkaLagFunction);
  kernel.onShutdown(async () => {
    await Promise.all([...active].map(monitor => monitor.stop()));
  });
};
