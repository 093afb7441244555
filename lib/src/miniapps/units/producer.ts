import type { Producer } from 'kafkajs';
import { MiniAppInputError } from '../errors.js';
import { encodeMessage, epochMillisNow } from '../messages/format.js';
import { openSource } from '../mass/sources.js';
import { Pacer } from '../rates/pacer.js';
import { parseRateProfile } from '../rates/profile.js';
import type { ProducerSpec } from '../runs/spec.js';
import type { UnitReporter } from './reporter.js';

/** Sends a producer keeps in flight; more would only queue in the client. */
const MAX_IN_FLIGHT = 8;

/** kafkajs' error for a record over the topic's limit, turned into what to change. */
export function explainSendError(error: unknown, bytes: number, topic: string): Error {
  const type = (error as { type?: unknown }).type;
  if (type === 'MESSAGE_TOO_LARGE')
    return new MiniAppInputError(
      `a message of ${bytes} bytes is larger than topic "${topic}" accepts: raise the topic's max.message.bytes (or the pilot's Kafka setting message.max.bytes), or send smaller messages`
    );
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A MASS producer: paces the source's messages by the shared rate profile and sends each to
 * one partition per send() (round robin; kafkajs#1798), several sends in flight.
 */
export async function runProducer(
  spec: ProducerSpec,
  producer: Producer,
  reporter: UnitReporter,
  signal: AbortSignal
): Promise<void> {
  const source = await openSource(spec.source, spec.producerId);
  const pacer = new Pacer({
    profile: parseRateProfile(spec.rate),
    producers: spec.producers,
    index: spec.index,
    startMs: spec.startMs
  });
  const inFlight = new Set<Promise<void>>();
  let failure: Error | undefined;
  let sequence = 0;
  while (!signal.aborted && failure === undefined) {
    if (spec.messages !== undefined && sequence >= spec.messages) break;
    if (!(await pacer.next(signal))) break;
    if (spec.endMs !== undefined && Date.now() >= spec.endMs) break;
    const { header, payload } = source.message(sequence);
    const value = encodeMessage(
      {
        ...header,
        runId: spec.runId,
        producerId: spec.producerId,
        sequence,
        sendTimeMs: epochMillisNow()
      },
      payload
    );
    const partition = (spec.index + sequence) % spec.partitions;
    sequence++;
    const sent = producer
      .send({ topic: spec.topic, messages: [{ partition, value }] })
      .then(() => reporter.count(value.length, Date.now()))
      .catch((error: unknown) => {
        failure ??= explainSendError(error, value.length, spec.topic);
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    reporter.behind = pacer.behind;
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
}
