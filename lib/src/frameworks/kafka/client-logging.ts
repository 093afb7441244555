import { logLevel, type logCreator } from 'kafkajs';

/**
 * kafkajs logs to stdout by default, at INFO, which floods notebook cells. This keeps errors
 * only, as one line each on stderr.
 */
export const quietLogCreator: logCreator = () => entry => {
  if (entry.level > logLevel.ERROR) return;
  const { message, broker, error } = entry.log as {
    message?: string;
    broker?: string;
    error?: string;
  };
  const where = broker !== undefined ? ` (${broker})` : '';
  const cause = error !== undefined ? `: ${error}` : '';
  process.stderr.write(`[kafkajs] ${entry.namespace} ${message ?? ''}${cause}${where}\n`);
};

export const QUIET_LOG_LEVEL = logLevel.ERROR;
