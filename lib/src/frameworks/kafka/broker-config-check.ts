import {
  BROKER_CONFIG_TABLE,
  BROKER_CONFIG_TABLE_VERSION,
  type KafkaConfigType
} from './broker-config-table.js';

/** Per-listener overrides: listener.name.<listener>.<broker setting>. */
const LISTENER_PREFIX = /^(listener\.name\.[^.]+\.)(.+)$/;
/** Settings that name a plug-in; Kafka hands a plug-in every setting, its own ones included. */
const PLUGIN_KEY = /\.class(\.name)?$|reporters$/;

const INTEGER_BITS: Partial<Record<KafkaConfigType, number>> = { short: 16, int: 32, long: 64 };
const JAVA_DOUBLE = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$/;

function typeExpectation(type: KafkaConfigType): string {
  if (type in INTEGER_BITS) return 'an integer';
  if (type === 'double') return 'a number';
  if (type === 'boolean') return 'true or false';
  if (type === 'list') return 'a comma-separated list';
  return 'a text';
}

/** Whether `text` is what Kafka's ConfigDef.parseType takes for `type` (it trims first). */
function parsesAs(type: KafkaConfigType, text: string): boolean {
  const bits = INTEGER_BITS[type];
  if (bits !== undefined) {
    if (!/^[+-]?\d+$/.test(text)) return false;
    const value = BigInt(text);
    const limit = 1n << BigInt(bits - 1);
    return value >= -limit && value < limit;
  }
  if (type === 'double') return JAVA_DOUBLE.test(text);
  if (type === 'boolean') return /^(true|false)$/i.test(text);
  return true;
}

/** What Kafka's validator allows beyond the type, read from how Kafka words it. */
type Allowed =
  | { kind: 'range'; min?: number; max?: number; also?: number }
  | { kind: 'choices'; choices: string[]; anyCase: boolean }
  | { kind: 'non-empty' }
  | { kind: 'any' };

function allowedOf(validValues: string | undefined): Allowed {
  if (validValues === undefined) return { kind: 'any' };
  const number = '(-?\\d+(?:\\.\\d+)?)';
  const range = new RegExp(
    `^\\[(?:${number},)?\\.\\.\\.(?:,${number})?\\](?: or ${number})?$`
  ).exec(validValues);
  if (range !== null) {
    const [, min, max, also] = range;
    return {
      kind: 'range',
      ...(min !== undefined ? { min: Number(min) } : {}),
      ...(max !== undefined ? { max: Number(max) } : {}),
      ...(also !== undefined ? { also: Number(also) } : {})
    };
  }
  const choices = /^(\(case insensitive\) )?\[([^\]]*)\]$/.exec(validValues);
  if (choices !== null) {
    return { kind: 'choices', choices: choices[2]!.split(', '), anyCase: choices[1] !== undefined };
  }
  if (validValues === 'non-empty string' || validValues === 'non-empty list') {
    return { kind: 'non-empty' };
  }
  // Validators Kafka describes otherwise are left to Kafka, which checks them at start-up.
  return { kind: 'any' };
}

function allowedExpectation(allowed: Allowed): string {
  switch (allowed.kind) {
    case 'range': {
      const bounds = [
        allowed.min !== undefined ? `at least ${allowed.min}` : '',
        allowed.max !== undefined ? `at most ${allowed.max}` : ''
      ].filter(bound => bound !== '');
      return ` of ${bounds.join(' and ')}${allowed.also !== undefined ? `, or ${allowed.also}` : ''}`;
    }
    case 'choices':
      return `${allowed.choices.join(', ')}${allowed.anyCase ? ' (in any case)' : ''}`;
    case 'non-empty':
      return ', not empty';
    case 'any':
      return '';
  }
}

function isAllowed(allowed: Allowed, text: string, type: KafkaConfigType): boolean {
  switch (allowed.kind) {
    case 'range': {
      const value = Number(text.replace(/[fFdD]$/, ''));
      if (allowed.also !== undefined && value === allowed.also) return true;
      return (
        (allowed.min === undefined || value >= allowed.min) &&
        (allowed.max === undefined || value <= allowed.max)
      );
    }
    case 'choices': {
      const items = type === 'list' ? listItems(text) : [text];
      const wanted = allowed.anyCase ? allowed.choices.map(c => c.toLowerCase()) : allowed.choices;
      return items.every(item => wanted.includes(allowed.anyCase ? item.toLowerCase() : item));
    }
    case 'non-empty':
      return type === 'list' ? listItems(text).length > 0 : text !== '';
    case 'any':
      return true;
  }
}

/** Kafka's list parsing: comma-separated, trimmed, an empty text is an empty list. */
function listItems(text: string): string[] {
  return text === '' ? [] : text.split(/\s*,\s*/);
}

/** What is wrong with `value` for the broker setting `key` of `type` (undefined when fine). */
function valueProblem(key: string, value: string | number | boolean): string | undefined {
  const [type, validValues] = BROKER_CONFIG_TABLE[key]!;
  const text = String(value).trim();
  // ${provider:path:key} is resolved by Kafka's config providers at start-up.
  if (text.includes('${')) return undefined;
  const allowed = allowedOf(validValues);
  const expected =
    allowed.kind === 'choices'
      ? `${type === 'list' ? 'a comma-separated list of' : 'one of'} ${allowedExpectation(allowed)}`
      : `${typeExpectation(type)}${allowedExpectation(allowed)}`;
  if (!parsesAs(type, text) || !isAllowed(allowed, text, type)) {
    const bits = INTEGER_BITS[type];
    const size = bits !== undefined && bits !== 32 ? ` (${bits}-bit)` : '';
    return `${expected}${size} (Kafka's ${type} setting ${key})`;
  }
  return undefined;
}

/** Edit distance (insertions, deletions, substitutions) between two keys. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The broker setting `key` was most likely meant to be, if one is close enough to be a typo. */
export function closestBrokerKey(key: string): string | undefined {
  const lower = key.toLowerCase();
  // Up to two edits, three for long keys: a typo, not a different setting.
  const tolerance = lower.length >= 24 ? 3 : 2;
  let best: { key: string; distance: number } | undefined;
  for (const known of Object.keys(BROKER_CONFIG_TABLE)) {
    if (Math.abs(known.length - lower.length) > tolerance) continue;
    const distance = editDistance(lower, known);
    if (distance <= tolerance && (best === undefined || distance < best.distance)) {
      best = { key: known, distance };
    }
  }
  return best?.key;
}

/**
 * What is wrong with one Kafka broker setting of a pilot's configuration, checked against
 * Kafka's own list of broker settings (type, range, choices); undefined when it is fine.
 * `namesPlugin`: the configuration names a plug-in, which may take settings of its own.
 */
export function brokerSettingProblem(
  key: string,
  value: string | number | boolean,
  namesPlugin: boolean
): string | undefined {
  if (key in BROKER_CONFIG_TABLE) return valueProblem(key, value);
  const listener = LISTENER_PREFIX.exec(key);
  if (listener !== null && listener[2]! in BROKER_CONFIG_TABLE) {
    return valueProblem(listener[2]!, value);
  }
  const [prefix, rest] = listener !== null ? [listener[1]!, listener[2]!] : ['', key];
  const closest = closestBrokerKey(rest);
  if (closest !== undefined) {
    return `a broker setting of Kafka ${BROKER_CONFIG_TABLE_VERSION}: did you mean "${prefix}${closest}"?`;
  }
  if (namesPlugin) return undefined;
  return `a broker setting of Kafka ${BROKER_CONFIG_TABLE_VERSION} (see "Broker Configs" in Kafka's documentation); a plug-in's own settings are passed on once the configuration names the plug-in (e.g. authorizer.class.name)`;
}

/** Whether the configuration names a plug-in (an authorizer, a metrics reporter, ...). */
export function namesPlugin(configuration: Record<string, string | number | boolean>): boolean {
  return Object.entries(configuration).some(
    ([key, value]) =>
      key in BROKER_CONFIG_TABLE && PLUGIN_KEY.test(key) && String(value).trim() !== ''
  );
}
