import vm from 'node:vm';
import type { CellScope } from './rewrite.js';

/**
 * What completion and inspection see as the cells' names: the properties of the cells' global
 * object and the cells' own bindings, which live in the context's script scope (see CellScope)
 * and are read there by name. A proxy over an empty object, so that it may list names the global
 * object does not have.
 */
export function cellNamespace(
  global: object,
  scope: CellScope,
  context: vm.Context
): Record<string, unknown> {
  const read = (name: string): unknown => vm.runInContext(name, context);
  return new Proxy({} as Record<string, unknown>, {
    has: (_target, name) => (typeof name === 'string' && scope.has(name)) || name in global,
    get: (_target, name) =>
      typeof name === 'string' && scope.has(name)
        ? read(name)
        : (global as Record<string | symbol, unknown>)[name],
    ownKeys: () => [...new Set([...Reflect.ownKeys(global), ...scope.names()])],
    getOwnPropertyDescriptor: (_target, name) => {
      if (typeof name === 'string' && scope.has(name)) {
        return { value: read(name), writable: true, enumerable: true, configurable: true };
      }
      const own = Reflect.getOwnPropertyDescriptor(global, name);
      // A proxy may not report a non-configurable property its (empty) target lacks.
      return own && { ...own, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(global)
  });
}
