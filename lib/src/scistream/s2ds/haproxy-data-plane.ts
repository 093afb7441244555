import { join } from 'node:path';
import { formatEndpoint } from './data-plane.js';
import { SubprocessDataPlane, type SubprocessConfig } from './subprocess-data-plane.js';

/**
 * HAProxy in TCP mode, as the original's HAProxy S2DS: plain TCP between the gateways, no
 * encryption and no per-session authentication. Offered for comparison and for networks that
 * encrypt below us; S2CS logs a warning whenever a session selects it.
 */
export class HaproxyDataPlane extends SubprocessDataPlane {
  readonly backend = 'haproxy';

  protected config(): SubprocessConfig {
    const { spec } = this;
    const lines = [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      ...spec.channels.flatMap((channel, index) => [
        `listen channel${index}`,
        `  bind ${formatEndpoint({ host: spec.listenHost, port: channel.listenPort })}`,
        `  server target${index} ${formatEndpoint(channel.target)}`
      ])
    ];
    const file = join(spec.workDir, 'haproxy.cfg');
    return {
      command: 'haproxy',
      args: ['-db', '-f', file],
      files: [{ name: 'haproxy.cfg', contents: lines.join('\n') + '\n' }]
    };
  }
}
