import { controlKernelPlugin } from '../control/kernel-plugin.js';
import { miniAppsKernelPlugin } from '../miniapps/jupyter/kernel-plugin.js';
import { monitoringKernelPlugin } from '../monitoring/kernel-plugin.js';
import { pilotKernelPlugin } from '../pilot/kernel-plugin.js';
import { reconKernelPlugin } from '../recon/kernel-plugin.js';
import type { KernelPlugin } from './api.js';

/** The library parts that plug into every kernel at start-up. */
export const kernelPlugins: KernelPlugin[] = [
  pilotKernelPlugin,
  controlKernelPlugin,
  monitoringKernelPlugin,
  reconKernelPlugin,
  miniAppsKernelPlugin
];
