import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Two facilities in network namespaces, created per run with unique names and removed by
 * `destroy()`:
 *
 *   producer (10.1.1.2) ── LAN A ── gwa (10.1.1.1 | 10.0.0.1) ── WAN ── (10.0.0.2 | 10.2.1.1) gwb ── LAN B ── consumer (10.2.1.2)
 *
 * Both gateways route, and their firewalls decide: gateway A forwards nothing, gateway B
 * forwards only the consumer's connections to gateway A's control port (the user client runs on
 * the consumer host). nftables on gateway A's
 * WAN side admits only its control port and its data port range; everything else gets a TCP
 * reset, so a direct connection from facility B to the producer is refused.
 */
export const ADDRESSES = {
  producer: '10.1.1.2',
  gwaLan: '10.1.1.1',
  gwaWan: '10.0.0.1',
  gwbWan: '10.0.0.2',
  gwbLan: '10.2.1.1',
  consumer: '10.2.1.2'
} as const;

export type Host = 'producer' | 'gwa' | 'gwb' | 'consumer';
const HOSTS: Host[] = ['producer', 'gwa', 'gwb', 'consumer'];

export interface FirewallPorts {
  gwaControl: number;
  gwaData: { low: number; high: number };
}

export class NetworkTestbed {
  readonly id = `ss${randomBytes(3).toString('hex')}`;
  private readonly created: string[] = [];
  private readonly children: ChildProcess[] = [];

  ns(host: Host): string {
    return `${this.id}-${host}`;
  }

  async exec(host: Host, command: string, args: string[]): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.ns(host), command, ...args]);
    return stdout;
  }

  /** A long-running process inside a namespace, stopped by destroy() if still running. */
  spawn(host: Host, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(host), command, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env }
    });
    this.children.push(child);
    return child;
  }

  async create(): Promise<void> {
    for (const host of HOSTS) {
      await run('ip', ['netns', 'add', this.ns(host)]);
      this.created.push(this.ns(host));
      await this.exec(host, 'ip', ['link', 'set', 'lo', 'up']);
    }
    const link = async (a: Host, aName: string, b: Host, bName: string) => {
      await run('ip', [
        'link',
        'add',
        aName,
        'netns',
        this.ns(a),
        'type',
        'veth',
        'peer',
        'name',
        bName,
        'netns',
        this.ns(b)
      ]);
    };
    await link('producer', 'lan', 'gwa', 'lan');
    await link('gwa', 'wan', 'gwb', 'wan');
    await link('gwb', 'lan', 'consumer', 'lan');
    const address = async (host: Host, dev: string, cidr: string) => {
      await this.exec(host, 'ip', ['addr', 'add', cidr, 'dev', dev]);
      await this.exec(host, 'ip', ['link', 'set', dev, 'up']);
    };
    await address('producer', 'lan', `${ADDRESSES.producer}/24`);
    await address('gwa', 'lan', `${ADDRESSES.gwaLan}/24`);
    await address('gwa', 'wan', `${ADDRESSES.gwaWan}/24`);
    await address('gwb', 'wan', `${ADDRESSES.gwbWan}/24`);
    await address('gwb', 'lan', `${ADDRESSES.gwbLan}/24`);
    await address('consumer', 'lan', `${ADDRESSES.consumer}/24`);
    await this.exec('producer', 'ip', ['route', 'add', 'default', 'via', ADDRESSES.gwaLan]);
    await this.exec('consumer', 'ip', ['route', 'add', 'default', 'via', ADDRESSES.gwbLan]);
    await this.exec('gwb', 'ip', ['route', 'add', '10.1.1.0/24', 'via', ADDRESSES.gwaWan]);
    await this.exec('gwa', 'ip', ['route', 'add', '10.2.1.0/24', 'via', ADDRESSES.gwbWan]);
    await this.exec('gwb', 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    // Forwarding on, so that the firewall (not a missing route) is what refuses B -> producer.
    await this.exec('gwa', 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  }

  /** nftables rules, applied once the gateways' ports are known. */
  async firewall(ports: FirewallPorts): Promise<void> {
    const gwa = `
table inet scistream {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" tcp dport { ${ports.gwaControl}, ${ports.gwaData.low}-${ports.gwaData.high} } accept
    iifname "wan" meta l4proto tcp reject with tcp reset
    iifname "wan" drop
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    meta l4proto tcp reject with tcp reset
  }
}`;
    const gwb = `
table inet scistream {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" ip daddr ${ADDRESSES.gwaWan} tcp dport ${ports.gwaControl} accept
    meta l4proto tcp reject with tcp reset
  }
}`;
    for (const [host, rules] of [
      ['gwa', gwa],
      ['gwb', gwb]
    ] as const) {
      const child = spawn('ip', ['netns', 'exec', this.ns(host), 'nft', '-f', '-'], {
        stdio: ['pipe', 'ignore', 'pipe']
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.end(rules);
      const code = await new Promise<number | null>(resolve => child.once('exit', resolve));
      if (code !== 0) throw new Error(`nft in ${host} failed (${code}): ${stderr}`);
    }
  }

  async destroy(): Promise<void> {
    for (const child of this.children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    for (const ns of this.created.splice(0)) {
      // Anything still running in the namespace (started by a helper we do not track) goes too.
      const { stdout } = await run('ip', ['netns', 'pids', ns]);
      for (const pid of stdout.split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      await run('ip', ['netns', 'del', ns]);
    }
  }
}
