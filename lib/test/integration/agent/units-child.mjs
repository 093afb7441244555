/* global process */
// A fresh Node process that reattaches to a pilot's compute units by id and prints what it sees.
// argv: <compiled pilot module> <home> <cache dir> <pilot id> <unit id to read>
const [pilotModule, home, cacheDir, pilotId, unitId] = process.argv.slice(2);
const { PilotComputeService } = await import(pilotModule);
const service = new PilotComputeService({ home, cacheDir });
const pilot = await service.getPilot(pilotId);
const records = await pilot.listUnits();
const unit = await service.getUnit(unitId);
const [waited] = await service.waitAll([unit], { timeoutMs: 30_000 });
const value = await unit.result();
process.stdout.write(
  JSON.stringify({
    count: records.length,
    states: records.map(record => record.state),
    unit: { id: unit.id, state: waited.state, node: unit.node, value }
  })
);
await service.close();
