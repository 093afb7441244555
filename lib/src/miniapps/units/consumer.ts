import type { Consumer } from 'kafkajs';
import { decodeMessage, epochMillisNow, type DecodedMessage } from '../messages/format.js';
import type { MessageProcessor } from '../masa/processors.js';
import type { ConsumerSpec } from '../runs/spec.js';
import type { UnitReporter } from './reporter.js';

/**
 * A MASA consumer: one member of the run's consumer group; decodes each message, processes it
 * and counts it with its latency (send → processed) and sequence number. A message that is not
 * a Mini-App message is counted as an error and skipped; a processor error ends the consumer.
 * Resolves when `signal` aborts; rejects with the processor's error.
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
    eachMessage: async ({ partition, message }) => {
      if (signal.aborted || message.value === null) return;
      let decoded: DecodedMessage;
      try {
        decoded = decodeMessage(message.value);
      } catch (error) {
        reporter.error(
          new Error(
            `partition ${partition} offset ${message.offset}: not a Mini-App message (${(error as Error).message})`
          )
        );
        return;
      }
      try {
        await processor.process(decoded);
      } catch (error) {
        fail(error as Error);
        // Stop taking messages; the offset of this one stays uncommitted.
        throw error;
      }
      const { header } = decoded;
      const now = epochMillisNow();
      reporter.latencyMs(now - header.sendTimeMs);
      reporter.received(header.runId, header.producerId, header.sequence);
      reporter.count(message.value.length, now);
    }
  });
  const stopped = new Promise<void>(resolve => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await Promise.race([stopped, failed]);
}
