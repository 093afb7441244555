/* global process, setTimeout, clearTimeout */
// Child process for reattach tests: a fresh Node process finds a pilot by id in the registry,
// reports its state, and produces and consumes through its context.
// argv: <compiled pilot module> <home> <cache dir> <pilot id> <topic>
const [pilotModule, home, cacheDir, id, topic] = process.argv.slice(2);
const { PilotComputeService } = await import(pilotModule);
const service = new PilotComputeService({ home, cacheDir });
const pilot = await service.getPilot(id);
const state = pilot.state;
const details = await pilot.details();
const kafka = await pilot.getContext();
const count = 25;
const producer = kafka.producer();
await producer.connect();
await producer.send({
  topic,
  messages: Array.from({ length: count }, (_, i) => ({ value: `from-child-${i}` }))
});
await producer.disconnect();
const consumer = kafka.consumer({ groupId: `${topic}-child` });
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
const values = [];
await new Promise((resolve, reject) => {
  const timer = setTimeout(
    () => reject(new Error(`consumed ${values.length} of ${count}`)),
    60_000
  );
  consumer
    .run({
      eachMessage: async ({ message }) => {
        values.push(message.value.toString());
        if (values.length === count) {
          clearTimeout(timer);
          resolve();
        }
      }
    })
    .catch(reject);
});
await consumer.disconnect();
await service.close();
process.stdout.write(`${JSON.stringify({ state, details, consumed: values })}\n`);
