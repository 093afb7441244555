import { javaTempOptions } from '../java-temp.js';
import type { SparkDistribution } from './distribution.js';

/**
 * How Spark's JVMs start without Spark's shell scripts (not in the Maven jars): `java` with the
 * class path of the distribution's jars and the module options Spark's launcher adds for
 * Java 17+ (org.apache.spark.launcher.JavaModuleOptions of Spark 4.2).
 */
export const SPARK_JAVA_MODULE_OPTIONS = [
  '-XX:+IgnoreUnrecognizedVMOptions',
  '--add-modules=jdk.incubator.vector',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.invoke=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.cs=ALL-UNNAMED',
  '--add-opens=java.base/sun.security.action=ALL-UNNAMED',
  '--add-opens=java.base/sun.util.calendar=ALL-UNNAMED',
  '--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED',
  '-Djdk.reflect.useDirectMethodHandle=false',
  '-Dio.netty.tryReflectionSetAccessible=true',
  '--enable-native-access=ALL-UNNAMED'
] as const;

/** The Connect server's main class; SparkSubmit runs it without an application jar. */
export const CONNECT_SERVER_CLASS = 'org.apache.spark.sql.connect.service.SparkConnectServer';

/** `java` arguments that run Spark's `mainClass` with `args`. */
export function sparkJavaArgs(options: {
  distribution: SparkDistribution;
  mainClass: string;
  args: readonly string[];
  heapMb: number;
}): string[] {
  return [
    ...SPARK_JAVA_MODULE_OPTIONS,
    ...javaTempOptions(),
    `-Xmx${options.heapMb}m`,
    '-cp',
    options.distribution.classPath,
    options.mainClass,
    ...options.args
  ];
}

/**
 * The port a Spark service bound (Spark logs "Successfully started service 'NAME' on port N."),
 * from its log text; undefined until it has.
 */
export function startedServicePort(log: string, service: string): number | undefined {
  const escaped = service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = new RegExp(`Successfully started service '${escaped}' on port (\\d+)`).exec(log);
  return found !== null ? Number(found[1]) : undefined;
}

/**
 * The JVM options the pilot gives executors (which Spark's workers start): Spark puts them
 * before the application's own `spark.executor.extraJavaOptions`, split like a shell would.
 */
export function executorDefaultJavaOptions(): string {
  return javaTempOptions()
    .map(option => (/[\s'"\\]/.test(option) ? `'${option.replace(/'/g, `'"'"'`)}'` : option))
    .join(' ');
}
