import type { BackendName, DataPlane, DataPlaneSpec } from './data-plane.js';
import { HaproxyDataPlane } from './haproxy-data-plane.js';
import { NativeDataPlane } from './native-proxy.js';
import { StunnelDataPlane } from './stunnel-data-plane.js';

export * from './data-plane.js';

export function createDataPlane(backend: BackendName, spec: DataPlaneSpec): DataPlane {
  switch (backend) {
    case 'native':
      return new NativeDataPlane(spec);
    case 'stunnel':
      return new StunnelDataPlane(spec);
    case 'haproxy':
      return new HaproxyDataPlane(spec);
  }
}
