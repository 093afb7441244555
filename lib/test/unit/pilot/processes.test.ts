import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  isProcessAlive,
  parseProcessStat,
  readProcessStat,
  sessionMembers
} from '../../../src/resource/fork/processes.js';

describe('process identification from /proc', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const line =
      '4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 100 18446744073709551615';
    expect(parseProcessStat(line)).toEqual({
      pid: 4242,
      state: 'S',
      ppid: 1,
      processGroup: 4242,
      session: 4242,
      startTime: '987654'
    });
  });

  it('knows this process, and not a reused pid with another start time', async () => {
    const self = await readProcessStat(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect(await isProcessAlive(process.pid, self!.startTime)).toBe(true);
    expect(await isProcessAlive(process.pid, String(BigInt(self!.startTime) + 1n))).toBe(false);
  });

  it('finds the members of a detached session, and none once they end', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & sleep 30; wait'], {
      detached: true,
      stdio: 'ignore'
    });
    const pid = child.pid!;
    try {
      let members: number[] = [];
      for (let i = 0; i < 50 && members.length < 3; i++) {
        await new Promise(resolve => setTimeout(resolve, 20));
        members = await sessionMembers(pid);
      }
      expect(members).toContain(pid);
      expect(members).toHaveLength(3);
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
    await new Promise(resolve => child.once('exit', resolve));
    for (let i = 0; i < 50 && (await sessionMembers(pid)).length > 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 20));
    }
    expect(await sessionMembers(pid)).toEqual([]);
  });
});
