/**
 * The kernel's own diagnostics go to the process's real stderr (the Jupyter server's log), never
 * to a cell: cells' console output is routed to iopub instead.
 */
const writeStderr = process.stderr.write.bind(process.stderr);

export function logKernel(message: string, error?: unknown): void {
  const detail =
    error === undefined
      ? ''
      : `: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  writeStderr(`[pilot-streaming kernel] ${message}${detail}\n`);
}
