import { open } from 'node:fs/promises';

/** The last `count` lines of a log file (reads at most the last 64 KiB). */
export async function lastLines(path: string, count: number): Promise<string[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await file.close();
  }
}

/**
 * The end of a log for a reason text ("; last log lines:" and up to 8 lines), empty for an
 * empty log. `withoutStackFrames` leaves out Java's "at ..." lines, which bury the message.
 */
export async function logTail(
  path: string,
  options: { withoutStackFrames?: boolean } = {}
): Promise<string> {
  let lines = await lastLines(path, 200);
  if (options.withoutStackFrames === true) {
    lines = lines.filter(line => !/^\s+(at |\.\.\. \d+ more)/.test(line));
  }
  return lines.length > 0 ? `; last log lines:\n${lines.slice(-8).join('\n')}` : '';
}
