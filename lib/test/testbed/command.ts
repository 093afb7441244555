import { execFile } from 'node:child_process';

/** Runs a command to completion; a non-zero exit is an error carrying its stderr. */
export function run(
  argv: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}
): Promise<string> {
  const [executable, ...args] = argv;
  if (executable === undefined) return Promise.reject(new Error('Empty command'));
  return new Promise((resolve, reject) => {
    execFile(
      executable,
      args,
      { env: options.env ?? process.env, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`${argv.join(' ')} failed: ${error.message.trim()} ${stderr.trim()}`));
        } else {
          resolve(stdout);
        }
      }
    );
  });
}
