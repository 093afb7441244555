import type { TestProject } from 'vitest/node';
import { Testbed, type TestbedInfo } from './testbed.js';

declare module 'vitest' {
  export interface ProvidedContext {
    testbed: TestbedInfo;
  }
}

/** vitest globalSetup of the `testbed` project: one testbed for all its test files. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const testbed = await Testbed.start({ nodes: 5 });
  project.provide('testbed', testbed.info);
  return () => testbed.stop();
}
