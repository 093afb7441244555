// A Kafka producer and consumer for the namespace testbed (kafkajs), run with plain node inside a
// namespace. Messages are random; both sides print the count and the SHA-256 of all values in
// order, so the test can compare what was written with what the broker holds.
//
//   node kafka-apps.mjs produce BOOTSTRAP TOPIC COUNT SIZE
//   node kafka-apps.mjs consume BOOTSTRAP TOPIC COUNT
/* global console */
import { createHash, randomBytes } from 'node:crypto';
import process from 'node:process';
import { clearTimeout, setTimeout } from 'node:timers';
import { Kafka, logLevel } from 'kafkajs';

const BATCH = 100;

function client(bootstrap) {
  return new Kafka({
    clientId: 'scistream-testbed',
    brokers: [bootstrap],
    logLevel: logLevel.ERROR,
    retry: { retries: 30, initialRetryTime: 300, maxRetryTime: 3000 }
  });
}

async function produce(bootstrap, topic, count, size) {
  const kafka = client(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
    waitForLeaders: true
  });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const hash = createHash('sha256');
  for (let sent = 0; sent < count; sent += BATCH) {
    const messages = [];
    for (let i = sent; i < Math.min(count, sent + BATCH); i++) {
      const value = randomBytes(size);
      hash.update(value);
      messages.push({ value });
    }
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  console.log(JSON.stringify({ count, sha256: hash.digest('hex') }));
}

async function consume(bootstrap, topic, count) {
  const kafka = client(bootstrap);
  const consumer = kafka.consumer({ groupId: `check-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const hash = createHash('sha256');
  let received = 0;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${received} of ${count} messages`)),
      120_000
    );
    consumer
      .run({
        eachMessage: async ({ message }) => {
          hash.update(message.value);
          received += 1;
          if (received === count) {
            clearTimeout(timer);
            resolve();
          }
        }
      })
      .catch(reject);
  });
  await consumer.disconnect();
  console.log(JSON.stringify({ count: received, sha256: hash.digest('hex') }));
}

const [command, bootstrap, topic, count, size] = process.argv.slice(2);
if (command === 'produce') await produce(bootstrap, topic, Number(count), Number(size));
else if (command === 'consume') await consume(bootstrap, topic, Number(count));
else throw new Error(`unknown command "${command}": expected produce or consume`);
