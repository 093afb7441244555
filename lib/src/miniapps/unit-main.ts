#!/usr/bin/env node
/**
 * A Mini-App producer or consumer, run as an executable compute unit on a pilot node:
 * `node unit-main.js '<spec JSON>'`. It reports on the run's metrics topic until it is done or
 * gets SIGTERM (the unit's cancel), then sends its final report and exits 0; a failure is sent
 * as the final report too, printed to stderr (the unit's record) and exits 1.
 */
import { readFile } from 'node:fs/promises';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { thisNodeName } from '../allocation/node-name.js';
import { readClientCredentials } from '../frameworks/kafka/tls.js';
import { createProcessor } from './masa/processors.js';
import { parseWith, unitSpecSchema } from './runs/spec.js';
import { runConsumer } from './units/consumer.js';
import { runProducer } from './units/producer.js';
import { UnitReporter } from './units/reporter.js';

async function main(): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(process.argv[2] ?? '');
  } catch {
    console.error('usage: unit-main.js <unit spec as JSON>');
    return 2;
  }
  const spec = parseWith(unitSpecSchema, raw, 'Mini-App unit spec');
  const node = process.env.PILOT_STREAMING_NODE ?? thisNodeName();
  // A TLS pilot's client certificate, from its work directory on the shared file system.
  const ssl =
    spec.tlsDir !== undefined
      ? await readClientCredentials(spec.tlsDir, path => readFile(path))
      : undefined;
  const kafka = new Kafka({
    clientId: spec.unit,
    brokers: spec.brokers,
    ...(ssl !== undefined ? { ssl } : {}),
    logLevel: logLevel.ERROR
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  await producer.connect();
  let reporter: UnitReporter | undefined;
  let consumer: Consumer | undefined;
  try {
    if (spec.role === 'producer') {
      reporter = new UnitReporter(spec, producer, node);
      reporter.start();
      await runProducer(spec, producer, reporter, stop.signal);
    } else {
      // Checked before joining the group, so a bad option fails before any message is taken.
      const processor = createProcessor(spec.processor);
      reporter = new UnitReporter(spec, producer, node, () => processor.takeView());
      reporter.start();
      consumer = kafka.consumer({ groupId: spec.groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      await runConsumer(spec, consumer, processor, reporter, stop.signal);
    }
    await reporter.finish('ended');
    return 0;
  } catch (error) {
    reporter?.error(error);
    await reporter?.finish('failed').catch(() => {});
    console.error((error as Error).stack ?? String(error));
    return 1;
  } finally {
    // After the final report: leaving the group can take seconds.
    await consumer?.disconnect();
    await producer.disconnect();
  }
}

main().then(
  code => process.exit(code),
  (error: unknown) => {
    console.error((error as Error).stack ?? String(error));
    process.exit(1);
  }
);
