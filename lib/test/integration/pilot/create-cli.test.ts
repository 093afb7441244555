import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTerminal } from '../../../src/protocol/index.js';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { distModule } from '../../support/paths.js';
import { processesMentioning, usePilotTestHome } from '../../support/pilot-home.js';

/** `pilot-streaming create` as a user runs it, its output collected as it comes. */
class CreateRun {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(home: string, cacheDir: string, args: string[]) {
    this.child = spawn(
      process.execPath,
      [distModule('cli/main.js'), 'create', '--type', 'kafka', ...args],
      {
        env: { ...process.env, PILOT_STREAMING_HOME: home, PILOT_STREAMING_CACHE: cacheDir },
        stdio: ['ignore', 'pipe', 'pipe']
      }
    );
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise(resolve => this.child.on('exit', code => resolve(code)));
  }

  /** Resolves with the match once stderr shows `pattern`; fails after `timeoutMs`. */
  async stderrMatch(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.stderr);
      if (match !== null) return match;
      if (Date.now() > deadline || this.child.exitCode !== null)
        throw new Error(`no ${String(pattern)} in stderr:\n${this.stderr}`);
      await new Promise(resolve => setTimeout(resolve, 50));
    }
  }
}

describe('pilot-streaming create, interrupted or timed out', () => {
  const test = usePilotTestHome('test');

  it('prints the id at launch; Ctrl-C stops waiting, leaves the pilot running and says how to cancel it', async () => {
    const run = new CreateRun(test.home, test.cacheDir, ['--resource', 'fork://localhost']);
    const [, id] = await run.stderrMatch(/^(pilot-[a-z0-9]{12}) launched on fork:\/\/localhost/m);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);

    expect(run.stderr).toContain(`Interrupted: ${id} keeps running (`);
    expect(run.stderr).toContain('until it is canceled or its walltime of 60 min ends');
    expect(run.stderr).toContain(`Cancel it with: pilot-streaming cancel ${id}`);
    expect(run.stdout).toMatch(new RegExp(`^${id} (Pending|Running)\\n$`));
    // Still there and still going: it only stopped being waited for.
    const pilot = await test.service.getPilot(id!);
    expect(isTerminal(pilot.state)).toBe(false);
    expect(await new ForkAdaptor().remaining(pilot.record.job!)).not.toEqual([]);
    expect(await processesMentioning(test.home)).not.toEqual([]);

    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    expect(await processesMentioning(test.home)).toEqual([]);
  });

  it('cancels the pilot on a second Ctrl-C and waits until the cancel is recorded', async () => {
    const run = new CreateRun(test.home, test.cacheDir, ['--resource', 'fork://localhost']);
    const [, id] = await run.stderrMatch(/^(pilot-[a-z0-9]{12}) launched/m);
    run.child.kill('SIGINT');
    await run.stderrMatch(/Press Ctrl-C again within 5 s to cancel it now/);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);

    expect(run.stderr).toContain(`Canceling ${id} ...`);
    expect(run.stderr).toContain(`${id} is Canceled`);
    expect(run.stdout).toBe(`${id} Canceled\n`);
    expect((await test.service.getPilot(id!)).state).toBe('Canceled');
    expect(await processesMentioning(test.home)).toEqual([]);
  });

  it('on --timeout says the pilot keeps running, how to cancel it, and exits 1', async () => {
    const run = new CreateRun(test.home, test.cacheDir, [
      '--resource',
      'fork://localhost',
      '--walltime',
      '15',
      '--timeout',
      '1'
    ]);
    expect(await run.exited).toBe(1);
    const id = /^(pilot-[a-z0-9]{12}) launched/m.exec(run.stderr)?.[1];
    expect(id, run.stderr).toBeDefined();
    expect(run.stderr).toMatch(
      new RegExp(`Timed out after 1 s waiting for pilot ${id} to reach Running; it is \\w+`)
    );
    expect(run.stderr).toContain(`${id} keeps running (`);
    expect(run.stderr).toContain('its walltime of 15 min ends');
    expect(run.stderr).toContain(`Cancel it with: pilot-streaming cancel ${id}`);
    expect(run.stdout).toMatch(new RegExp(`^${id} (Pending|Running)\\n$`));

    const pilot = await test.service.getPilot(id!);
    expect(isTerminal(pilot.state)).toBe(false);
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    expect(await processesMentioning(test.home)).toEqual([]);
  });

  it('refuses a misspelt Kafka key and a bad value before anything is launched', async () => {
    const run = new CreateRun(test.home, test.cacheDir, [
      '--resource',
      'fork://localhost',
      '--config',
      'num.partitons=3',
      '--config',
      'log.retention.hours=abc'
    ]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(
      'configuration.num.partitons = "3", expected a broker setting of Kafka 4.3.1: did you mean "num.partitions"?'
    );
    expect(run.stderr).toContain('configuration.log.retention.hours = "abc", expected an integer');
    expect(run.stderr).not.toMatch(/launched/);
    expect(run.stdout).toBe('');
    const registry = await readdir(join(test.home, 'registry')).catch(() => []);
    expect(registry.filter(name => name.endsWith('.json'))).toEqual([]);
    expect(await processesMentioning(test.home)).toEqual([]);
  });

  it('refuses --queue, --project and several --nodes on fork:// before anything is launched', async () => {
    const run = new CreateRun(test.home, test.cacheDir, [
      '--resource',
      'fork://localhost',
      '--queue',
      'debug',
      '--project',
      'astro42',
      '--nodes',
      '3'
    ]);
    expect(await run.exited).toBe(1);
    expect(run.stderr).toContain(
      'queue = "debug", expected no queue outside a batch scheduler: it applies to slurm:// and slurm+ssh:// resources'
    );
    expect(run.stderr).toContain(
      'project = "astro42", expected no project outside a batch scheduler'
    );
    expect(run.stderr).toContain('numberOfNodes = 3, expected exactly 1 node on fork://localhost');
    expect(run.stderr).not.toMatch(/launched/);
    expect(run.stdout).toBe('');
    const registry = await readdir(join(test.home, 'registry')).catch(() => []);
    expect(registry.filter(name => name.endsWith('.json'))).toEqual([]);
  });
});
