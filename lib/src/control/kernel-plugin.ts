import type { KernelPlugin } from '../kernel/api.js';
import { getDefaultPilotService } from '../pilot/index.js';
import { CONTROL_COMM_TARGET, type ControlMessage } from '../protocol/index.js';
import { ControlSession } from './control-session.js';

/**
 * The side panel's way into the library: each comm the panel opens on CONTROL_COMM_TARGET
 * gets a ControlSession on this process's pilot service, which lives as long as the comm.
 */
export const controlKernelPlugin: KernelPlugin = kernel => {
  kernel.registerCommTarget(CONTROL_COMM_TARGET, comm => {
    // The panel may close the comm while a request is still being answered.
    const send = (message: ControlMessage) => {
      if (!comm.closed) comm.send(message);
    };
    const session = new ControlSession(getDefaultPilotService(), send);
    comm.onMessage(data => void session.handle(data));
    comm.onClose(() => session.close());
    kernel.onShutdown(() => session.close());
    void session.open();
  });
};
