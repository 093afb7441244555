import type { Consumer, KafkaMessage } from 'kafkajs';
import { decodeMessage, epochMillisNow, type DecodedMessage } from '../messages/format.js';
import type { MessageProcessor } from '../masa/processors.js';
import type { ConsumerSpec } from '../runs/spec.js';
import type { UnitReporter } from './reporter.js';

/**
 * A MASA consumer: one member of the run's consumer group. It takes the fetched batch a group of
 * messages at a time (one, or two for GridRec's slice pairs), decodes and processes them, and
 * counts each with its latency (send → processed) and sequence number; each message's offset is
 * resolved once it is processed. A message that is not a Mini-App message is counted as an error
 * and skipped; a processor error ends the consumer. Resolves when `signal` aborts; rejects with
 * the processor's error.
 */
export async function runConsumer(
  spec: ConsumerSpec,
  consumer: Consumer,
  processor: MessageProcessor,
  reporter: UnitReporter,
  signal: AbortSignal
): Promise<void> {
  let fail: (error: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  await consumer.subscribe({ topic: spec.topic, fromBeginning: spec.fromBeginning });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      const pending: { message: KafkaMessage; decoded: DecodedMessage }[] = [];
      const processPending = async () => {
        if (pending.length === 0) return;
        try {
          await processor.processMany(pending.map(p => p.decoded));
        } catch (error) {
          fail(error as Error);
          // Stop taking messages; these offsets stay unresolved.
          throw error;
        }
        const now = epochMillisNow();
        for (const { message, decoded } of pending) {
          const { header } = decoded;
          reporter.latencyMs(now - header.sendTimeMs);
          reporter.received(header.runId, header.producerId, header.sequence);
          reporter.count(message.value!.length, now);
          resolveOffset(message.offset);
        }
        pending.length = 0;
        await heartbeat();
      };
      for (const message of batch.messages) {
        if (signal.aborted || !isRunning() || isStale()) break;
        if (message.value === null) {
          resolveOffset(message.offset);
          continue;
        }
        try {
          pending.push({ message, decoded: decodeMessage(message.value) });
        } catch (error) {
          reporter.error(
            new Error(
              `partition ${batch.partition} offset ${message.offset}: not a Mini-App message (${(error as Error).message})`
            )
          );
          await processPending();
          resolveOffset(message.offset);
          continue;
        }
        if (pending.length >= processor.groupSize) await processPending();
      }
      if (!signal.aborted && isRunning() && !isStale()) await processPending();
    }
  });
  const stopped = new Promise<void>(resolve => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([stopped, failed]);
}
