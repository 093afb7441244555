import { posix } from 'node:path';
import { ENTRY_MODULES, type EntryRole } from '../entry-points/roles.js';

/** How a pilot's programs run on a resource reached over ssh. */
export interface Installation {
  /** The Node.js executable there. */
  node: string;
  /**
   * The library there: its bundle (`node <bundle> <role>`, staged by this client) or an
   * installed package's directory (`node <directory>/dist/<module>`).
   */
  library: { bundle: string } | { directory: string };
  /** The cache there that holds the framework distributions. */
  cacheDir: string;
}

/** The command that runs `role` of the library with `installation`. */
export function commandOf(installation: Installation, role: EntryRole): string[] {
  const library = installation.library;
  return 'bundle' in library
    ? [installation.node, library.bundle, role]
    : [installation.node, posix.join(library.directory, 'dist', ENTRY_MODULES[role])];
}
