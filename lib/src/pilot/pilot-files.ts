import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  formatProblem,
  problemsFromIssues,
  type JobHandle,
  type PilotState
} from '../protocol/index.js';
import type { Installation } from '../staging/index.js';

/**
 * Files beside the registry, in a pilot's local working directory, that keep what a damaged or
 * read-only registry cannot: where the pilot's job runs (so a pilot whose record is damaged can
 * still be stopped) and how it ended (so an end that could not be recorded is not later taken
 * for a crash).
 */
const JOB_FILE = 'job.json';
const END_FILE = 'end.json';

/** The protocol's terminal states, as a tuple zod can check against. */
const END_STATES = ['Done', 'Failed', 'Canceled'] as const satisfies readonly PilotState[];

const jobFileSchema = z.object({
  resource: z.string(),
  job: z.looseObject({
    jobId: z.string(),
    host: z.string(),
    pid: z.number().int().positive().optional(),
    pidStartTime: z.string().optional()
  }),
  // How the library runs on a resource reached over ssh (its compute units run the same way).
  installation: z
    .object({
      node: z.string(),
      library: z.union([z.object({ bundle: z.string() }), z.object({ directory: z.string() })]),
      cacheDir: z.string()
    })
    .optional()
});

const endNoteSchema = z.object({
  state: z.enum(END_STATES),
  reason: z.string(),
  at: z.string()
});

export type EndNote = z.infer<typeof endNoteSchema>;

/** Writes `value` as JSON through a temporary file and a rename (readers never see half). */
async function writeJson(directory: string, name: string, value: unknown): Promise<string> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const path = join(directory, name);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
  return path;
}

/** The parsed file, undefined if there is none; an error naming the file if it is unusable. */
async function readJson<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = problemsFromIssues(value, result.error.issues).map(formatProblem);
    throw new Error(`${path} is damaged: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Remembers where the pilot's job runs, and with what (written once it is launched). */
export function writeJobFile(
  workDir: string,
  resource: string,
  job: JobHandle,
  installation?: Installation
): Promise<string> {
  return writeJson(workDir, JOB_FILE, { resource, job, ...(installation ? { installation } : {}) });
}

export async function readJobFile(
  workDir: string
): Promise<{ resource: string; job: JobHandle; installation?: Installation } | undefined> {
  return readJson(join(workDir, JOB_FILE), jobFileSchema);
}

/** Notes an end that the registry could not record; returns the note's path. */
export function writeEndNote(
  workDir: string,
  state: (typeof END_STATES)[number],
  reason: string
): Promise<string> {
  return writeJson(workDir, END_FILE, { state, reason, at: new Date().toISOString() });
}

export async function readEndNote(workDir: string): Promise<EndNote | undefined> {
  return readJson(join(workDir, END_FILE), endNoteSchema);
}
