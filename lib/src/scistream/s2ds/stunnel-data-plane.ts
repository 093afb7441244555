import { join } from 'node:path';
import { formatEndpoint } from './data-plane.js';
import { SubprocessDataPlane, type SubprocessConfig } from './subprocess-data-plane.js';

/**
 * stunnel pair as the original's S2DS, but with TLS 1.3 and a real cipher (the original used
 * TLS 1.2 PSK with the NULL cipher and the session uid as the key). The key file holds the
 * session's random key, hex-encoded, readable by us only.
 *
 * Counters come from stunnel's log (level notice, on its stderr): connections and active
 * connections are live ("Service [channelN] accepted connection", "Connection closed/reset"),
 * bytes are known only when a connection closes (stunnel logs them then and offers nothing
 * earlier), so bytes, throughput and last activity move at connection close.
 */
export class StunnelDataPlane extends SubprocessDataPlane {
  readonly backend = 'stunnel';
  /** stunnel's connection number → channel index, from the accept line until the close line. */
  private readonly openConnections = new Map<string, number>();

  protected onLogLine(line: string): void {
    const accepted = /LOG5\[(\d+)\]: Service \[channel(\d+)\] accepted connection/.exec(line);
    if (accepted) {
      const counters = this.channelCounters[Number(accepted[2])];
      this.openConnections.set(accepted[1], counters.channel);
      counters.connections += 1;
      counters.activeConnections += 1;
      counters.lastActivityMs = Date.now();
      return;
    }
    const closed =
      /LOG5\[(\d+)\]: Connection (?:closed|reset): (\d+) byte\(s\) sent to TLS, (\d+) byte\(s\) sent to socket/.exec(
        line
      );
    const channel = closed ? this.openConnections.get(closed[1]) : undefined;
    if (!closed || channel === undefined) return;
    this.openConnections.delete(closed[1]);
    const counters = this.channelCounters[channel];
    const [toTls, toSocket] = [Number(closed[2]), Number(closed[3])];
    // Producer side: TLS faces the consumer gateway (whoever connected), the socket the producer.
    // Consumer side: the socket faces the consumer (whoever connected), TLS the producer gateway.
    const [bytesIn, bytesOut] =
      this.spec.side === 'producer' ? [toSocket, toTls] : [toTls, toSocket];
    counters.addIn(bytesIn);
    counters.addOut(bytesOut);
    counters.activeConnections -= 1;
  }

  protected config(): SubprocessConfig {
    const { spec } = this;
    const secrets = join(spec.workDir, 'stunnel.psk');
    const global = ['foreground = yes', 'pid =', 'syslog = no', 'debug = 5'];
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
