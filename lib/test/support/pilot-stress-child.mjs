/* global process */
// Child process for the concurrency stress test: creates `count` pilots at once, waits until
// all are Running, cancels them all at once and reports each pilot's job and history. A
// failure is reported after everything this child started has been canceled.
// argv: <compiled pilot module> <home> <cache dir> <count> <description JSON> <timeout ms>
const [pilotModule, home, cacheDir, count, descriptionJson, timeoutMs] = process.argv.slice(2);
const { PilotComputeService } = await import(pilotModule);
const service = new PilotComputeService({ home, cacheDir });
const description = JSON.parse(descriptionJson);
const created = await Promise.allSettled(
  Array.from({ length: Number(count) }, () => service.createPilot(description))
);
const pilots = created.flatMap(outcome => (outcome.status === 'fulfilled' ? [outcome.value] : []));
const waited = await Promise.allSettled(
  pilots.map(pilot => pilot.wait('Running', { timeoutMs: Number(timeoutMs) }))
);
const canceled = await Promise.allSettled(pilots.map(pilot => pilot.cancel()));
await service.close();
const failures = [...created, ...waited, ...canceled]
  .filter(outcome => outcome.status === 'rejected')
  .map(outcome => String(outcome.reason?.stack ?? outcome.reason));
process.stdout.write(
  `${JSON.stringify({
    pilots: pilots.map(pilot => ({
      id: pilot.id,
      job: pilot.record.job,
      states: pilot.record.history.map(change => change.state)
    })),
    failures
  })}\n`
);
process.exitCode = failures.length > 0 ? 1 : 0;
