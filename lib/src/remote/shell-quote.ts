/**
 * Quotes one word for a POSIX shell: single quotes keep everything literal, and a single quote
 * itself is closed, escaped and reopened. Words of only safe characters stay as they are.
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line whose words the remote shell splits back exactly into `argv`. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('Empty command: expected at least the program to run');
  return argv.map(shellQuote).join(' ');
}

/** `env K=V ... argv` (when env has entries) run in `cwd` (when given), quoted for sh. */
export function shellCommandIn(
  argv: readonly string[],
  options: { cwd?: string; env?: Readonly<Record<string, string>> } = {}
): string {
  const assignments = Object.entries(options.env ?? {}).map(([key, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new Error(`Environment variable name ${JSON.stringify(key)} is not a valid shell name`);
    }
    return `${key}=${value}`;
  });
  const command = shellCommand(assignments.length > 0 ? ['env', ...assignments, ...argv] : argv);
  return options.cwd !== undefined ? `cd ${shellQuote(options.cwd)} && ${command}` : command;
}
