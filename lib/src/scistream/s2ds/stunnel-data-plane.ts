import { join } from 'node:path';
import { formatEndpoint } from './data-plane.js';
import { SubprocessDataPlane, type SubprocessConfig } from './subprocess-data-plane.js';

/**
 * stunnel pair as the original's S2DS, but with TLS 1.3 and a real cipher (the original used
 * TLS 1.2 PSK with the NULL cipher and the session uid as the key). The key file holds the
 * session's random key, hex-encoded, readable by us only.
 */
export class StunnelDataPlane extends SubprocessDataPlane {
  readonly backend = 'stunnel';

  protected config(): SubprocessConfig {
    const { spec } = this;
    const secrets = join(spec.workDir, 'stunnel.psk');
    const global = ['foreground = yes', 'pid =', 'syslog = no', 'debug = 3'];
    const services = spec.channels.map((channel, index) =>
      [
        `[channel${index}]`,
        spec.side === 'consumer' ? 'client = yes' : 'client = no',
        `accept = ${formatEndpoint({ host: spec.listenHost, port: channel.listenPort })}`,
        `connect = ${formatEndpoint(channel.target)}`,
        'sslVersionMin = TLSv1.3',
        'ciphersuites = TLS_AES_128_GCM_SHA256',
        `PSKsecrets = ${secrets}`,
        ...(spec.side === 'consumer' ? [`PSKidentity = ${spec.uid}`] : [])
      ].join('\n')
    );
    return {
      command: 'stunnel',
      args: [join(spec.workDir, 'stunnel.conf')],
      files: [
        { name: 'stunnel.psk', contents: `${spec.uid}:${spec.psk.toString('hex')}\n` },
        { name: 'stunnel.conf', contents: [...global, ...services].join('\n') + '\n' }
      ]
    };
  }
}
