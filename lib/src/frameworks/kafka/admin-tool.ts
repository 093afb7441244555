import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { javaTempOptions } from '../java-temp.js';
import type { KafkaDistribution } from './distribution.js';

/** Kafka's command-line tools used on a running cluster (in the distribution's kafka-tools jar). */
export const KAFKA_TOOLS = {
  reassignPartitions: 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
  leaderElection: 'org.apache.kafka.tools.LeaderElectionCommand',
  cluster: 'org.apache.kafka.tools.ClusterTool'
} as const;

/** Short-lived JVM: a small heap and the quick JIT tier only. */
export const SHORT_LIVED_JVM_OPTIONS = ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'];

/** The output of a tool, its stack frames left out (they bury the message). */
function lastMessageLines(lines: readonly string[], count: number): string {
  return lines
    .filter(line => !/^\s+(at |\.\.\. \d+ more)/.test(line) && line.trim() !== '')
    .slice(-count)
    .join('\n');
}

/**
 * Runs one of Kafka's tools to completion and returns its output lines (standard output and
 * error, interleaved). Rejects, naming the command and its last output lines, when it exits
 * non-zero or runs longer than `timeoutMs` (then it is killed).
 */
export async function runKafkaTool(options: {
  distribution: KafkaDistribution;
  mainClass: string;
  args: string[];
  cwd: string;
  timeoutMs: number;
}): Promise<string[]> {
  const { distribution, mainClass, args, timeoutMs } = options;
  const command = `java -cp ${distribution.classPath} ${mainClass} ${args.join(' ')}`;
  const child = spawn(
    'java',
    [
      ...SHORT_LIVED_JVM_OPTIONS,
      ...javaTempOptions(),
      '-cp',
      distribution.classPath,
      mainClass,
      ...args
    ],
    {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe']
    }
  );
  const lines: string[] = [];
  const keep = (line: string): void => void lines.push(line);
  createInterface({ input: child.stdout }).on('line', keep);
  createInterface({ input: child.stderr }).on('line', keep);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', error => reject(new Error(`Cannot run ${command}: ${error.message}`)));
      // 'close' comes after both output streams ended, so every line is in.
      child.once('close', (code, signal) => resolve({ code, signal }));
    }
  ).finally(() => clearTimeout(timer));
  if (timedOut) {
    throw new Error(
      `${command} did not finish within ${timeoutMs / 1000} s and was killed; last output:\n${lastMessageLines(lines, 10)}`
    );
  }
  if (exit.code !== 0) {
    const how =
      exit.signal !== null
        ? `was killed by ${exit.signal}`
        : `exited with code ${String(exit.code)}`;
    throw new Error(`${command} ${how}; last output:\n${lastMessageLines(lines, 10)}`);
  }
  return lines;
}
