import type { Command } from 'commander';
import { startDashboardProxy } from '../dashboards/dashboard-proxy.js';
import { PilotComputeService } from '../pilot/service.js';

/**
 * `pilot-streaming dashboard-proxy --socket PATH`: the pilots' dashboards for the Jupyter
 * server (jupyter-server-proxy starts it, see scripts/jupyter_server_config.py); runs until
 * SIGTERM or SIGINT, then closes its ssh connections and socket.
 */
export function addDashboardCommand(program: Command): void {
  program
    .command('dashboard-proxy')
    .description(
      "Serve the pilots' dashboards on a Unix socket for jupyter-server-proxy (runs until SIGTERM)"
    )
    .requiredOption('--socket <path>', 'the Unix socket to listen on')
    .action(async (options: { socket: string }) => {
      const service = new PilotComputeService();
      const proxy = await startDashboardProxy({
        pilots: service,
        socketPath: options.socket,
        log: line => process.stderr.write(`${line}\n`)
      }).catch(async (error: unknown) => {
        await service.close();
        throw error;
      });
      await new Promise<void>(resolve => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      await proxy.close();
      await service.close();
    });
}
