import type { FrameworkDetails, PilotType } from '../protocol/index.js';
import { withChildWorkers, withoutChildWorkers } from './dask/extension.js';
import { withChildBrokers, withoutChildBrokers } from './kafka/extension.js';
import { DaskBootstrap } from './dask/bootstrap.js';
import { DaskManager } from './dask/manager.js';
import { KafkaBootstrap } from './kafka/bootstrap.js';
import { KafkaManager } from './kafka/manager.js';
import { FlinkBootstrap } from './flink/bootstrap.js';
import { withChildTaskManagers, withoutChildTaskManagers } from './flink/extension.js';
import { FlinkManager } from './flink/manager.js';
import { SparkBootstrap } from './spark/bootstrap.js';
import { withChildSparkWorkers, withoutChildSparkWorkers } from './spark/extension.js';
import { SparkManager } from './spark/manager.js';
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
export { SparkManager } from './spark/manager.js';
export { SparkContext } from './spark/context.js';
export { SparkError, type SparkDataSource, type SparkResult } from './spark/connect-client.js';
export { kafkaTopicSource } from './spark/kafka-source.js';
export { SPARK_VERSION } from './spark/distribution.js';
export { FlinkManager } from './flink/manager.js';
export { FlinkContext, type KafkaTableSource } from './flink/context.js';
export { FlinkRestError, type SqlOptions, type SqlResult } from './flink/rest-client.js';
export { kafkaTableOptions, withClause } from './flink/kafka-table.js';
export { FLINK_VERSION } from './flink/distribution.js';
export { kafkaSource, type KafkaSource } from './kafka/tls.js';
export { KAFKA_VERSION } from './kafka/distribution.js';

/** A running child's nodes join its parent's details (the parent lists every node). */
export function withChild(parent: FrameworkDetails, child: FrameworkDetails): FrameworkDetails {
  if (parent.type === 'kafka' && child.type === 'kafka') return withChildBrokers(parent, child);
  if (parent.type === 'dask' && child.type === 'dask') return withChildWorkers(parent, child);
  if (parent.type === 'spark' && child.type === 'spark') {
    return withChildSparkWorkers(parent, child);
  }
  if (parent.type === 'flink' && child.type === 'flink') {
    return withChildTaskManagers(parent, child);
  }
  throw new Error(`A ${child.type} pilot cannot join a ${parent.type} pilot's cluster`);
}

/** A stopped child's nodes leave its parent's details. */
export function withoutChild(parent: FrameworkDetails, childId: string): FrameworkDetails {
  switch (parent.type) {
    case 'kafka':
      return withoutChildBrokers(parent, childId);
    case 'dask':
      return withoutChildWorkers(parent, childId);
    case 'spark':
      return withoutChildSparkWorkers(parent, childId);
    case 'flink':
      return withoutChildTaskManagers(parent, childId);
  }
}

/** The client side of a framework type. */
export function frameworkManager(type: PilotType, options: { cacheDir: string }): FrameworkManager {
  switch (type) {
    case 'kafka':
      return new KafkaManager(options);
    case 'dask':
      return new DaskManager(options);
    case 'spark':
      return new SparkManager(options);
    case 'flink':
      return new FlinkManager(options);
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
    case 'spark':
      return new SparkBootstrap(options);
    case 'flink':
      return new FlinkBootstrap(options);
  }
}
