import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * How cells load modules: relative paths from the notebook's working directory, bare package
 * names from the working directory first and then from this library's own dependencies (so
 * `kafkajs` and `@pilot-streaming/lib` are importable from any notebook).
 */
export class ModuleLoader {
  private readonly cwdRequire: NodeJS.Require;
  private readonly libraryRequire = createRequire(import.meta.url);

  constructor(private readonly cwd: string) {
    this.cwdRequire = createRequire(path.join(cwd, '__notebook__.js'));
  }

  /** `require` for cells. */
  readonly require = Object.assign(
    (specifier: string): unknown => this.requireFor(specifier)(specifier),
    {
      resolve: (specifier: string) => this.requireFor(specifier).resolve(specifier)
    }
  );

  private requireFor(specifier: string): NodeJS.Require {
    if (this.isBuiltin(specifier) || specifier.startsWith('.') || path.isAbsolute(specifier)) {
      return this.cwdRequire;
    }
    try {
      this.cwdRequire.resolve(specifier);
      return this.cwdRequire;
    } catch {
      // Not installed next to the notebook: fall back to the library's dependencies.
      return this.libraryRequire;
    }
  }

  private isBuiltin(specifier: string): boolean {
    return specifier.startsWith('node:') || builtinModules.includes(specifier);
  }

  /** Resolves a specifier to what `import()` should load. */
  resolve(specifier: string): string {
    if (this.isBuiltin(specifier) || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return specifier;
    if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
      return pathToFileURL(path.resolve(this.cwd, specifier)).href;
    }
    try {
      return pathToFileURL(this.cwdRequire.resolve(specifier)).href;
    } catch {
      // Not installed next to the notebook; ESM-only packages resolve through import.meta.
      return import.meta.resolve(specifier);
    }
  }

  async import(specifier: string): Promise<Record<string, unknown>> {
    if (typeof specifier !== 'string') {
      throw new TypeError(`import(): specifier must be a string, got ${typeof specifier}`);
    }
    return (await import(this.resolve(specifier))) as Record<string, unknown>;
  }
}

/** `import x from 'm'`: the default export, or the CommonJS exports object. */
export function defaultExport(namespace: Record<string, unknown>): unknown {
  return 'default' in namespace ? namespace.default : namespace;
}

/** `import { a } from 'm'`, also for CommonJS modules whose names Node could not detect. */
export function namedExport(namespace: Record<string, unknown>, name: string): unknown {
  if (name in namespace) return namespace[name];
  const fallback = namespace.default;
  if (fallback !== null && (typeof fallback === 'object' || typeof fallback === 'function')) {
    return (fallback as Record<string, unknown>)[name];
  }
  return undefined;
}
