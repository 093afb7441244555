import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent } from '../../../src/agent/channel.js';
import { AgentClient } from '../../../src/agent/client.js';
import {
  ComputeUnitError,
  type ComputeUnit,
  type Pilot,
  type ProcessResult
} from '../../../src/pilot/index.js';
import { summarize, ValidationError } from '../../../src/protocol/index.js';
import { distModule } from '../../support/paths.js';
import { processesMentioning, usePilotTestHome } from '../../support/pilot-home.js';
import { until } from '../../support/until.js';

const run = promisify(execFile);
// Compute units run on the pilot's agent, whatever framework it brings up: Dask starts in
// seconds, a Kafka broker in tens of seconds on two busy cores.
const description = { type: 'dask', resource: 'fork://localhost' } as const;

describe('compute units on a fork:// pilot', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;

  beforeAll(async () => {
    pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
  });

  // Runs before the home's clean-up (vitest runs after-hooks in reverse order).
  afterAll(async () => {
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
  });

  it('runs 200 function units and 50 executable units, all Done with the right results', async () => {
    const started = Date.now();
    const functions: ComputeUnit<{
      i: number;
      square: number;
      big: bigint;
      tags: Map<string, number>;
    }>[] = [];
    for (let i = 0; i < 200; i++) {
      functions.push(
        await pilot.submit(
          async (n: number, tag: string) => {
            await new Promise(resolve => setTimeout(resolve, 2));
            return { i: n, square: n * n, big: BigInt(n) ** 20n, tags: new Map([[tag, n]]) };
          },
          i,
          `t${i}`
        )
      );
    }
    const executables: ComputeUnit<ProcessResult>[] = [];
    for (let i = 0; i < 50; i++) {
      executables.push(
        await pilot.submit({
          executable: 'printenv',
          arguments: ['UNIT_INDEX'],
          env: { UNIT_INDEX: String(i) }
        })
      );
    }
    const submitted = Date.now();
    const records = await test.service.waitAll([...functions, ...executables], {
      timeoutMs: 150_000
    });
    const ended = Date.now();
    console.log(
      `250 units: submitted in ${submitted - started} ms, all ended ${ended - started} ms after the first submit`
    );
    expect(records.map(record => record.state)).toEqual(Array(250).fill('Done'));
    for (let i = 0; i < 200; i++) {
      const value = await functions[i]!.result();
      expect(value).toEqual({
        i,
        square: i * i,
        big: BigInt(i) ** 20n,
        tags: new Map([[`t${i}`, i]])
      });
    }
    for (let i = 0; i < 50; i++) {
      expect(await executables[i]!.result()).toEqual({
        exitCode: 0,
        stdout: `${i}\n`,
        stderr: ''
      });
      expect(await executables[i]!.stdout()).toBe(`${i}\n`);
    }
    const unit = functions[0]!;
    expect(unit.started!.getTime()).toBeGreaterThanOrEqual(unit.submitted.getTime());
    expect(unit.finished!.getTime()).toBeGreaterThanOrEqual(unit.started!.getTime());

    // Never more units at once than the node has cores.
    const cores = pilot.record.agents![0]!.cores;
    const intervals = records.map(r => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)]);
    for (const [start] of intervals) {
      const overlapping = intervals.filter(([s, f]) => s! <= start! && start! < f!).length;
      expect(overlapping).toBeLessThanOrEqual(cores);
    }

    // metrics.csv: one line per unit, like pilot-quantum's.
    const csv = (await readFile(join(pilot.record.workDir!, 'metrics.csv'), 'utf8'))
      .trim()
      .split('\n');
    expect(csv[0]).toBe('unit_id,node,kind,cores,state,submitted,started,finished,duration_s');
    const lines = csv.slice(1).map(line => line.split(','));
    for (const record of records) {
      const line = lines.find(fields => fields[0] === record.id);
      expect(line).toBeDefined();
      expect(line![1]).toBe(record.node);
      expect(line![4]).toBe('Done');
      expect(Number(line![8])).toBeGreaterThanOrEqual(0);
    }
  });

  it('fails a unit that throws with the error name, message and remote stack', async () => {
    const thrower = await pilot.submit((what: string) => {
      const explode = (): never => {
        throw new RangeError(`bad ${what}`);
      };
      return explode();
    }, 'input');
    expect(await thrower.wait({ timeoutMs: 30_000 })).toBe('Failed');
    expect(thrower.record.error).toMatchObject({ name: 'RangeError', message: 'bad input' });
    const error = await thrower.result().then(
      () => undefined,
      (e: unknown) => e as ComputeUnitError
    );
    expect(error).toBeInstanceOf(ComputeUnitError);
    expect(error!.name).toBe('RangeError');
    expect(error!.message).toBe('bad input');
    // The stack is the node's: it names the unit's evaluated source.
    expect(error!.remoteStack).toContain(`${thrower.id}.js`);
    expect(error!.remoteStack).toMatch(/RangeError: bad input\n\s+at explode/);

    const outer = 41;
    const closure = await pilot.submit(() => outer + 1);
    await expect(closure.result({ timeoutMs: 30_000 })).rejects.toThrow(
      /outer is not defined \(compute units ship only the function source.*closures over outer variables are not supported/
    );
    expect(closure.state).toBe('Failed');
    expect(closure.record.error?.name).toBe('ReferenceError');

    // Not cloneable arguments are refused at submit, before anything runs.
    await expect(
      pilot.submit(
        (f: () => void) => f,
        () => undefined
      )
    ).rejects.toThrow(/could not be cloned/);
    await expect(
      pilot.submit({ executable: '', cores: 0 } as unknown as { executable: string })
    ).rejects.toThrow(ValidationError);
    await expect(pilot.submit({ executable: 'true', cores: 4096 })).rejects.toThrow(
      /cores = 4096, expected at most/
    );
    const missing = await pilot.submit({ executable: 'no-such-program-here' });
    expect(await missing.wait({ timeoutMs: 30_000 })).toBe('Failed');
    expect(missing.record.reason).toMatch(/cannot run no-such-program-here: .*ENOENT/);
    const exits = await pilot.submit({
      executable: 'sh',
      arguments: ['-c', 'echo oops >&2; exit 3']
    });
    await expect(exits.result({ timeoutMs: 30_000 })).rejects.toThrow(/sh exited with code 3/);
    expect(await exits.stderr()).toBe('oops\n');
  });

  it('cancels a running function unit and a running process; the agent keeps serving', async () => {
    const loop = await pilot.submit(() => {
      for (;;) {
        // A unit that never returns: only terminating its worker stops it.
      }
    });
    const sleeper = await pilot.submit({ executable: 'sleep', arguments: ['600'] });
    expect(await until(async () => (await loop.refresh()).state === 'Running', 10_000)).toBe(true);
    expect(await until(async () => (await sleeper.refresh()).state === 'Running', 10_000)).toBe(
      true
    );
    const cancelStart = Date.now();
    await loop.cancel();
    await sleeper.cancel();
    console.log(`two running units canceled in ${Date.now() - cancelStart} ms`);
    expect(loop.state).toBe('Canceled');
    expect(sleeper.state).toBe('Canceled');
    expect(sleeper.record.signal).toBe('SIGTERM');
    await expect(loop.result()).rejects.toThrow(/canceled/);
    const after = await pilot.submit((x: number) => x + 1, 1);
    expect(await after.result({ timeoutMs: 30_000 })).toBe(2);
  });

  it('lists units and reads results from a new process (reattach)', async () => {
    const unit = await pilot.submit((s: string) => s.toUpperCase(), 'from the parent');
    await unit.wait({ timeoutMs: 30_000 });
    const mine = await pilot.listUnits();
    const child = await run(process.execPath, [
      fileURLToPath(new URL('./units-child.mjs', import.meta.url)),
      distModule('pilot/index.js'),
      test.home,
      test.cacheDir,
      pilot.id,
      unit.id
    ]);
    const seen = JSON.parse(child.stdout) as {
      count: number;
      states: string[];
      unit: { id: string; state: string; node: string; value: string };
    };
    expect(seen.count).toBe(mine.length);
    expect(seen.states).toEqual(mine.map(record => record.state));
    expect(seen.unit).toEqual({
      id: unit.id,
      state: 'Done',
      node: unit.node,
      value: 'FROM THE PARENT'
    });
  });

  it('keeps the secret private and refuses a client with a wrong secret', async () => {
    const record = await pilot.refresh();
    const agent = record.agents![0]!;
    const secretPath = join(record.workDir!, 'agent.secret');
    expect((await stat(secretPath)).mode & 0o777).toBe(0o600);
    const secret = (await readFile(secretPath, 'utf8')).trim();
    expect(JSON.stringify(summarize(record))).not.toContain(secret);
    expect(JSON.stringify(summarize(record))).not.toContain(String(agent.port));
    expect(JSON.stringify(record)).not.toContain(secret);

    await expect(
      connectAgent({
        host: agent.host,
        port: agent.port,
        pilotId: pilot.id,
        secret: randomBytes(32)
      })
    ).rejects.toThrow(/Cannot reach the agent/);
    await expect(
      connectAgent({
        host: agent.host,
        port: agent.port,
        pilotId: 'pilot-000000000000',
        secret: Buffer.from(secret, 'hex')
      })
    ).rejects.toThrow(/Cannot reach the agent/);
    const client = await AgentClient.connect(pilot.id, agent, Buffer.from(secret, 'hex'));
    try {
      expect(await client.request({ op: 'status' })).toMatchObject({ node: agent.node, load: 0 });
    } finally {
      client.close();
    }
    const log = await readFile(join(record.workDir!, `agent-${agent.node}.log`), 'utf8');
    expect(log).toMatch(/refused a connection/);
    expect(log).not.toContain(secret);
  });
});

describe('pilot agent failure', () => {
  const test = usePilotTestHome('file');

  it('cancels the units of a canceled pilot; another process lists them Canceled', async () => {
    const pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const sleeper = await pilot.submit({ executable: 'sleep', arguments: ['600'] });
    const loop = await pilot.submit(() => new Promise(() => setInterval(() => undefined, 1000)));
    expect(await until(async () => (await sleeper.refresh()).state === 'Running', 10_000)).toBe(
      true
    );
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    const records = await (await test.newService().getPilot(pilot.id)).listUnits();
    expect(records.map(record => [record.id, record.state])).toEqual([
      [sleeper.id, 'Canceled'],
      [loop.id, 'Canceled']
    ]);
    expect(records[0]!.reason).toBe('the pilot agent stopped');
    await expect(pilot.submit((x: number) => x, 1)).rejects.toThrow(
      /is Canceled: compute units can be submitted once it is Running/
    );
  });

  it('marks the pilot Failed when its agent stops heartbeating (hung), and leaves nothing', async () => {
    const pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const agentPid = pilot.record.agents![0]!.pid!;
    const stoppedAt = Date.now();
    // A stopped process is alive but silent: only the missing heartbeats reveal it.
    process.kill(agentPid, 'SIGSTOP');
    const failed = await until(async () => (await pilot.refresh()).state === 'Failed', 20_000);
    const elapsed = Date.now() - stoppedAt;
    console.log(`agent hung -> pilot Failed in ${elapsed} ms`);
    expect(failed).toBe(true);
    // 10 s of silence is the rule, checked every 2 s; then it is recorded at once.
    expect(elapsed).toBeLessThan(15_000);
    expect(pilot.record.reason).toMatch(/pilot agent on .* \(pid \d+\) sent no heartbeat for 10 s/);
    expect(
      await until(async () => (await processesMentioning(test.home)).length === 0, 20_000)
    ).toBe(true);
  });

  it('marks the pilot Failed with a reason when its agent is killed, and leaves nothing', async () => {
    const pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const sleeper = await pilot.submit({ executable: 'sleep', arguments: ['600'] });
    expect(await until(async () => (await sleeper.refresh()).state === 'Running', 10_000)).toBe(
      true
    );
    const agentPid = pilot.record.agents![0]!.pid!;

    const killedAt = Date.now();
    process.kill(agentPid, 'SIGKILL');
    const reader = await test.newService().getPilot(pilot.id);
    const failed = await until(async () => (await reader.refresh()).state === 'Failed', 10_000);
    const elapsed = Date.now() - killedAt;
    console.log(`agent killed -> pilot Failed in ${elapsed} ms`);
    expect(failed).toBe(true);
    expect(elapsed).toBeLessThan(10_000);
    expect(reader.record.reason).toMatch(
      /pilot agent on .* \(pid \d+\) was killed by signal SIGKILL/
    );
    // The unit that ran there ended with its pilot.
    expect(await sleeper.wait({ timeoutMs: 5_000 })).toBe('Failed');
    expect(sleeper.record.reason).toMatch(/its pilot ended Failed/);
    // The supervisor stops the framework and the unit's process, and exits.
    expect(
      await until(async () => (await processesMentioning(test.home)).length === 0, 20_000)
    ).toBe(true);
  });
});
