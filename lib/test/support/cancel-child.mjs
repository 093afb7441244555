/* global process */
// Child process for reattach tests: a fresh Node process finds a pilot by id, cancels it and
// reports its state before and after. argv: <compiled pilot module> <home> <cache dir> <pilot id>
const [pilotModule, home, cacheDir, id] = process.argv.slice(2);
const { PilotComputeService } = await import(pilotModule);
const service = new PilotComputeService({ home, cacheDir });
const started = Date.now();
const pilot = await service.getPilot(id);
const before = pilot.state;
await pilot.cancel();
const after = pilot.state;
await service.close();
process.stdout.write(`${JSON.stringify({ before, after, ms: Date.now() - started })}\n`);
