import net from 'node:net';
import { join } from 'node:path';
import { formatEndpoint } from './data-plane.js';
import { SubprocessDataPlane, type SubprocessConfig } from './subprocess-data-plane.js';

const STATS_SOCKET = 'haproxy.sock';
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;
const STATS_TIMEOUT_MS = 5_000;

/** Sends one command to HAProxy's stats socket and returns the whole answer. */
async function statsCommand(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ path });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(STATS_TIMEOUT_MS, () =>
      socket.destroy(new Error(`HAProxy stats socket ${path}: no answer to "${command}"`))
    );
    socket.on('connect', () => socket.end(`${command}\n`));
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** `show stat` CSV rows as objects keyed by the header's column names. */
function parseShowStat(csv: string): Record<string, string>[] {
  const [header, ...rows] = csv.split('\n').filter(line => line.trim() !== '');
  if (!header?.startsWith('# ')) {
    throw new Error(
      `HAProxy "show stat": expected a CSV header starting with "# ", got "${header}"`
    );
  }
  const columns = header.slice(2).split(',');
  return rows.map(row => {
    const cells = row.split(',');
    return Object.fromEntries(columns.map((column, index) => [column, cells[index] ?? '']));
  });
}

/**
 * HAProxy in TCP mode, as the original's HAProxy S2DS: plain TCP between the gateways, no
 * encryption and no per-session authentication. Offered for comparison and for networks that
 * encrypt below us; S2CS logs a warning whenever a session selects it.
 *
 * Counters are live, read from a stats socket private to the session (in its 0700 work
 * directory): each channel's frontend row of `show stat` gives connections (total and current)
 * and the bytes of closed connections, `show sess all` the bytes of open ones so far.
 */
export class HaproxyDataPlane extends SubprocessDataPlane {
  readonly backend = 'haproxy';

  private get statsSocket(): string {
    return join(this.spec.workDir, STATS_SOCKET);
  }

  protected config(): SubprocessConfig {
    const { spec } = this;
    if (Buffer.byteLength(this.statsSocket) > MAX_SOCKET_PATH) {
      throw new Error(
        `HAProxy stats socket path "${this.statsSocket}" is too long for a Unix socket; ` +
          `expected at most ${MAX_SOCKET_PATH} bytes (use a shorter --state-dir)`
      );
    }
    const lines = [
      'global',
      '  maxconn 4096',
      `  stats socket ${this.statsSocket} mode 600 level operator`,
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

  protected async refreshCounters(): Promise<void> {
    const rows = parseShowStat(await statsCommand(this.statsSocket, 'show stat'));
    const open = openStreamTotals(await statsCommand(this.statsSocket, 'show sess all'));
    for (const row of rows) {
      const channel = /^channel(\d+)$/.exec(row.pxname);
      if (!channel || row.svname !== 'FRONTEND') continue;
      const index = Number(channel[1]);
      const live = open.get(index) ?? { bytesIn: 0, bytesOut: 0 };
      // Frontend: bin arrives from whoever connected (towards the target), bout goes back.
      this.channelCounters[index].setTotals(
        Number(row.bin) + live.bytesIn,
        Number(row.bout) + live.bytesOut
      );
      this.channelCounters[index].connections = Number(row.stot);
      this.channelCounters[index].activeConnections = Number(row.scur);
    }
  }
}

/**
 * Bytes moved so far by each channel's open connections, from `show sess all` (the request and
 * response channels' totals). HAProxy folds a connection's bytes into `show stat` only when it
 * processes the stream — for a forwarding TCP stream, in practice at close — so live figures
 * are the statistics plus these totals.
 */
function openStreamTotals(sessions: string): Map<number, { bytesIn: number; bytesOut: number }> {
  const totals = new Map<number, { bytesIn: number; bytesOut: number }>();
  for (const block of sessions.split(/\n(?=0x[0-9a-f]+: \[)/)) {
    const channel = /frontend=channel(\d+) /.exec(block);
    const request = /\breq=\S+ \([^)]*total=(\d+)\)/.exec(block);
    const response = /\bres=\S+ \([^)]*total=(\d+)\)/.exec(block);
    if (!channel || !request || !response) continue;
    const sum = totals.get(Number(channel[1])) ?? { bytesIn: 0, bytesOut: 0 };
    sum.bytesIn += Number(request[1]);
    sum.bytesOut += Number(response[1]);
    totals.set(Number(channel[1]), sum);
  }
  return totals;
}
