import type { PilotType } from '../protocol/index.js';
import { DaskBootstrap } from './dask/bootstrap.js';
import { DaskManager } from './dask/manager.js';
import { KafkaBootstrap } from './kafka/bootstrap.js';
import { KafkaManager } from './kafka/manager.js';
import type { FrameworkBootstrap, FrameworkManager } from './plugin.js';

export type * from './plugin.js';
export { KafkaManager } from './kafka/manager.js';
export { DaskManager } from './dask/manager.js';
export {
  DaskContext,
  DaskPythonError,
  type DaskClusterInfo,
  type DaskFuture,
  type DaskWorkerInfo,
  type KafkaConsumption,
  type PythonFunction
} from './dask/context.js';
export { DASK_VERSION } from './dask/distribution.js';
export { kafkaSource, type KafkaSource } from './kafka/tls.js';
export { KAFKA_VERSION } from './kafka/distribution.js';
export { withChildBrokers, withoutChildBrokers } from './kafka/extension.js';

/** The client side of a framework type. */
export function frameworkManager(type: PilotType, options: { cacheDir: string }): FrameworkManager {
  switch (type) {
    case 'kafka':
      return new KafkaManager(options);
    case 'dask':
      return new DaskManager(options);
  }
}

/** The resource side of a framework type (runs inside the pilot's supervisor). */
export function frameworkBootstrap(
  type: PilotType,
  options: { cacheDir: string }
): FrameworkBootstrap {
  switch (type) {
    case 'kafka':
      return new KafkaBootstrap(options);
    case 'dask':
      return new DaskBootstrap(options);
  }
}
