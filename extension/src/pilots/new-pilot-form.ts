import {
  checkPilotDescription,
  type PilotDescriptionInput,
  type PilotType,
  type ValidationProblem
} from '@pilot-streaming/lib/protocol';

/** What the "New pilot" form holds: strings, as typed. */
export interface NewPilotFormValues {
  type: string;
  resource: string;
  name: string;
  /** Number of nodes; empty for the schema's default (1). */
  nodes: string;
  /** Wall time in minutes; empty for the schema's default. */
  walltime: string;
  /** Cores per node (Flink: task slots; Dask: threads); empty for the framework's default. */
  cores: string;
  /** The id of a Running pilot of the same type whose cluster this one extends; empty for none. */
  parent: string;
  /** The framework's configuration, one "key = value" a line ("#" starts a comment line). */
  configuration: string;
}

export const DEFAULT_RESOURCE = 'fork://localhost';

export const EMPTY_FORM: NewPilotFormValues = {
  type: 'kafka',
  resource: DEFAULT_RESOURCE,
  name: '',
  nodes: '',
  walltime: '',
  cores: '',
  parent: '',
  configuration: ''
};

/** Example configuration of each framework, shown in the empty configuration field. */
export const CONFIGURATION_EXAMPLES: Record<PilotType, string> = {
  kafka: 'num.partitions = 3\nlog.retention.hours = 24',
  dask: 'distributed.scheduler.allowed-failures = 5',
  spark: 'spark.sql.shuffle.partitions = 8\nspark.executor.memory = 2g',
  flink: 'taskmanager.memory.process.size = 2g\ntable.exec.resource.default-parallelism = 4'
};

/** A typed number as a number; anything else as typed, for the schema to name. */
function numberOrText(text: string): number | string {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== '' && Number.isFinite(value) ? value : trimmed;
}

/** A value as the framework takes it: numbers and true/false typed, the rest a string. */
function configurationValue(text: string): string | number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** The configuration lines as key/value pairs, and the lines that are not "key = value". */
export function parseConfiguration(text: string): {
  configuration: Record<string, string | number | boolean>;
  problems: ValidationProblem[];
} {
  const configuration: Record<string, string | number | boolean> = {};
  const problems: ValidationProblem[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = equals > 0 ? line.slice(0, equals).trim() : '';
    if (key === '') {
      problems.push({
        key: `configuration line ${index + 1}`,
        value: line,
        expected: '"key = value", e.g. "num.partitions = 3"'
      });
      continue;
    }
    configuration[key] = configurationValue(line.slice(equals + 1).trim());
  }
  return { configuration, problems };
}

/** The description the form stands for: trimmed, without the fields left empty. */
export function descriptionFromForm(values: NewPilotFormValues): PilotDescriptionInput {
  const name = values.name.trim();
  const parent = values.parent.trim();
  const { configuration } = parseConfiguration(values.configuration);
  // The form's strings go to the shared schema as they are; it names what is wrong with them.
  return {
    type: values.type.trim(),
    resource: values.resource.trim(),
    ...(name !== '' ? { name } : {}),
    ...(values.nodes.trim() !== '' ? { numberOfNodes: numberOrText(values.nodes) } : {}),
    ...(values.walltime.trim() !== '' ? { walltimeMinutes: numberOrText(values.walltime) } : {}),
    ...(values.cores.trim() !== '' ? { coresPerNode: numberOrText(values.cores) } : {}),
    ...(parent !== '' ? { parent } : {}),
    ...(Object.keys(configuration).length > 0 ? { configuration } : {})
  } as PilotDescriptionInput;
}

export type FormCheck =
  { ok: true; description: PilotDescriptionInput } | { ok: false; problems: ValidationProblem[] };

/**
 * Validates the form with the same schema the library uses (framework-specific checks, such as
 * reserved configuration keys, come from the server); nothing is sent when invalid.
 */
export function checkNewPilotForm(values: NewPilotFormValues): FormCheck {
  const description = descriptionFromForm(values);
  const problems = [
    ...parseConfiguration(values.configuration).problems,
    ...checkPilotDescription(description)
  ];
  return problems.length === 0 ? { ok: true, description } : { ok: false, problems };
}
