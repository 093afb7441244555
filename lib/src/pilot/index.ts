export { PilotComputeService, CANCEL_GRACE_MS } from './service.js';
export { Pilot, DEFAULT_WAIT_TIMEOUT_MS, type StateListener } from './pilot.js';
export { PilotRegistry } from './registry.js';
export {
  ComputeUnit,
  ComputeUnitError,
  UnitWaitError,
  DEFAULT_UNIT_WAIT_TIMEOUT_MS,
  type ProcessResult
} from './compute-unit.js';
export {
  PilotNotFoundError,
  PilotStateError,
  PilotWaitError,
  InvalidTransitionError,
  DamagedRecordError,
  RegistryWriteError
} from './errors.js';
export { defaultPilotCache, defaultPilotHome } from './environment.js';
export type { Progress, ProgressListener } from '../frameworks/plugin.js';
export {
  DaskContext,
  DaskPythonError,
  kafkaSource,
  type DaskClusterInfo,
  type DaskFuture,
  type DaskWorkerInfo,
  type KafkaConsumption,
  type KafkaSource,
  type PythonFunction,
  SparkContext,
  SparkError,
  kafkaTopicSource,
  type SparkDataSource,
  type SparkResult,
  FlinkContext,
  FlinkRestError,
  kafkaTableOptions,
  withClause,
  type KafkaTableSource,
  type SqlOptions,
  type SqlResult
} from '../frameworks/index.js';
import { PilotComputeService } from './service.js';

let defaultService: PilotComputeService | undefined;

/** One service per process (the kernel's plugins share it); home and cache from the env. */
export function getDefaultPilotService(): PilotComputeService {
  defaultService ??= new PilotComputeService();
  return defaultService;
}
