import type { KernelPlugin, KernelServices } from './api.js';

/**
 * Runs each plugin against the kernel's services. A plugin that throws (or whose promise
 * rejects) is reported and skipped: one broken part must not take the kernel down.
 */
export function loadPlugins(
  plugins: readonly KernelPlugin[],
  services: KernelServices,
  onError: (pluginName: string, error: unknown) => void
): void {
  for (const plugin of plugins) {
    const name = plugin.name || '(anonymous plugin)';
    try {
      const result: unknown = plugin(services);
      if (result instanceof Promise) result.catch((error: unknown) => onError(name, error));
    } catch (error) {
      onError(name, error);
    }
  }
}
