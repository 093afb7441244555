import { javaTempOptions } from '../java-temp.js';

/**
 * The environment of a Flink pilot's scripts (bin/jobmanager.sh, taskmanager.sh,
 * sql-gateway.sh): the pilot's configuration, log and pid directories, and the JVM options
 * that keep temporary files in the pilot's directory. The scripts start helper JVMs of their
 * own (BashJavaUtils, a version check) before the daemon's: JDK_JAVA_OPTIONS reaches every one.
 */
export function flinkScriptEnvironment(options: {
  confDir: string;
  logDir: string;
  pidDir: string;
  /** Names the scripts' pid and log files (they use $USER otherwise). */
  ident: string;
  base?: NodeJS.ProcessEnv;
}): NodeJS.ProcessEnv {
  const base = options.base ?? process.env;
  // Inherited FLINK_* settings (another installation's directories, FLINK_ENV_JAVA_OPTS, which
  // would replace the configuration's module options) do not apply to the pilot's Flink.
  const inherited = Object.fromEntries(
    Object.entries(base).filter(([name]) => !name.startsWith('FLINK_'))
  );
  const userOptions = base.JDK_JAVA_OPTIONS;
  return {
    ...inherited,
    FLINK_CONF_DIR: options.confDir,
    FLINK_LOG_DIR: options.logDir,
    FLINK_PID_DIR: options.pidDir,
    FLINK_IDENT_STRING: options.ident,
    // The user's own options come last and win.
    JDK_JAVA_OPTIONS: [...javaTempOptions().map(quoteJavaOption), userOptions ?? '']
      .join(' ')
      .trim()
  };
}

/**
 * An option as JDK_JAVA_OPTIONS reads it: the launcher splits on white space and takes quotes
 * (no escapes) around an argument that holds some.
 */
export function quoteJavaOption(option: string): string {
  if (!/[\s"']/.test(option)) return option;
  if (!option.includes('"')) return `"${option}"`;
  if (!option.includes("'")) return `'${option}'`;
  throw new Error(
    `The JVM option ${option} holds both kinds of quotes: JDK_JAVA_OPTIONS cannot carry it (expected a temporary directory path without quotes)`
  );
}
