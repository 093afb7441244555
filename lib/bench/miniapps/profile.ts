/**
 * Where a Node process spent its time, from a V8 CPU profile (`node --cpu-prof`): self time by
 * category. A builtin (no script) or a frame of Node's own library (`node:buffer`, streams)
 * counts towards the category of the package code that called it, so "kafkajs request
 * encoding" includes the Buffer copies and allocations it asks for; what no package code called
 * (the event loop, socket callbacks) is "Node.js runtime".
 */
import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  category: string;
  seconds: number;
  share: number;
}

export interface ProfileSummary {
  /** The span summarized: from the first to the last sample in one of the active categories. */
  seconds: number;
  /** The whole profile (start-up, connection, group join and exit included). */
  profileSeconds: number;
  categories: ProfileShare[];
  /** The functions with the most self time (with their builtins), for the report's notes. */
  top: { name: string; seconds: number; share: number }[];
}

export const MESSAGE_CATEGORY = 'Mini-App message encoding/decoding';
export const PROCESSING_CATEGORY = 'processing (KMeans, reconstruction)';

/** The category of a frame of package code; undefined for builtins, Node's library and the root. */
function categoryOf(frame: ProfileNode['callFrame']): string | undefined {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return 'idle (waiting for the broker or the network)';
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'V8 and native code outside JavaScript';
  if (url === '' || url.startsWith('wasm://')) return undefined;
  if (url.includes('/kafkajs/')) {
    if (url.includes('crc32C')) return 'kafkajs CRC-32C (in JavaScript)';
    if (url.includes('/protocol/encoder') || url.includes('/protocol/recordBatch/'))
      return 'kafkajs request encoding (copies)';
    if (url.includes('/protocol/decoder') || url.includes('/requests/fetch/'))
      return 'kafkajs fetch decoding';
    return 'kafkajs other (network, queues, promises)';
  }
  if (url.includes('/miniapps/messages/')) return MESSAGE_CATEGORY;
  if (url.includes('/miniapps/masa/') || url.includes('/recon/')) return PROCESSING_CATEGORY;
  if (url.includes('/miniapps/')) return 'Mini-App unit (source, pacer, reports)';
  if (url.startsWith('node:')) return undefined;
  return 'other JavaScript';
}

function frameName(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

/**
 * Self time by category over the part of the profile where the unit did its work: from the first
 * to the last sample in one of `active` (e.g. the message encoding of a producer), so that
 * start-up and the wait for a stop signal do not count as idle.
 */
export async function summarizeProfile(
  path: string,
  active: readonly string[] = [MESSAGE_CATEGORY, PROCESSING_CATEGORY]
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map(node => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  // A sample's category is its nearest frame (itself or a caller) of package code; its name, for
  // the list of functions, its nearest frame with a script (Node's library included).
  const categories = new Map<number, string>();
  const categoryAt = (id: number): string => {
    const known = categories.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const result =
      categoryOf(byId.get(id)!.callFrame) ??
      (up === undefined ? 'Node.js runtime (event loop, sockets, streams)' : categoryAt(up));
    categories.set(id, result);
    return result;
  };
  const named = new Map<number, ProfileNode>();
  const namedAt = (id: number): ProfileNode => {
    const known = named.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const up = parent.get(id);
    const result = node.callFrame.url !== '' || up === undefined ? node : namedAt(up);
    named.set(id, result);
    return result;
  };
  const seconds = new Map<string, number>();
  const functions = new Map<string, number>();
  const activeSamples = profile.samples
    .map((id, index) => (active.includes(categoryAt(id)) ? index : -1))
    .filter(index => index >= 0);
  const first = activeSamples[0] ?? 0;
  const last = activeSamples.at(-1) ?? profile.samples.length - 1;
  let total = 0;
  let profileSeconds = 0;
  profile.samples.forEach((id, index) => {
    const delta = (profile.timeDeltas[index] ?? 0) / 1e6;
    profileSeconds += delta;
    if (index < first || index > last) return;
    total += delta;
    const node = namedAt(id);
    const category = categoryAt(id);
    seconds.set(category, (seconds.get(category) ?? 0) + delta);
    if (!node.callFrame.functionName.startsWith('(')) {
      const name = frameName(node.callFrame);
      functions.set(name, (functions.get(name) ?? 0) + delta);
    }
  });
  const share = (value: number) => (total > 0 ? value / total : 0);
  return {
    seconds: total,
    profileSeconds,
    categories: [...seconds]
      .map(([category, value]) => ({ category, seconds: value, share: share(value) }))
      .sort((a, b) => b.seconds - a.seconds),
    top: [...functions]
      .map(([name, value]) => ({ name, seconds: value, share: share(value) }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 8)
  };
}
