/* global process */
// Child process for registry concurrency tests: adds 1 to a counter in a pilot record `count`
// times, each a read-modify-write through the registry (lock + atomic rename).
// argv: <compiled registry module> <home> <pilot id> <count>
const [registryModule, home, id, count] = process.argv.slice(2);
const { PilotRegistry } = await import(registryModule);
const registry = new PilotRegistry(home);
for (let i = 0; i < Number(count); i++) {
  await registry.update(id, record => {
    const seen = Number(record.progress?.stage ?? '0');
    return { ...record, progress: { stage: String(seen + 1) } };
  });
}
