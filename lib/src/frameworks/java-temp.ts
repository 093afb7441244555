import { tmpdir } from 'node:os';

/**
 * JVM options that keep a Java process's files out of the machine's shared /tmp: Java ignores
 * TMPDIR (native libraries such as lz4's and commons-crypto's, Spark's scratch directories land
 * in java.io.tmpdir, /tmp by default) and writes hsperfdata files to /tmp whatever it is told.
 * A pilot's supervisor points TMPDIR at the pilot's own temporary directory, which goes with it.
 */
export function javaTempOptions(): string[] {
  return ['-XX:-UsePerfData', `-Djava.io.tmpdir=${tmpdir()}`];
}
