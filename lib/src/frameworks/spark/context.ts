import { createServer, type Server, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import type { ClientCredentials } from '../certificates.js';
import { status } from '@grpc/grpc-js';
import { getJsonThrough } from '../https-json.js';
import type { DashboardTarget } from '../plugin.js';
import { SparkConnectClient, SparkError } from './connect-client.js';
import { MASTER_STATE_PATH, workersOf, type MasterWorker } from './master-state.js';

/**
 * The context of a Spark pilot: a Spark Connect session over mutual TLS with the pilot's
 * certificate and token. For a pilot on a resource reached over ssh, gRPC connects to a
 * loopback port here whose connections are carried through the ssh connection; TLS still runs
 * end to end (the certificate is checked against the pilot's node).
 */
export class SparkContext extends SparkConnectClient {
  private constructor(
    options: ConstructorParameters<typeof SparkConnectClient>[0],
    private readonly masterUi: DashboardTarget,
    private readonly bridge?: Server
  ) {
    super(options);
  }

  static async open(options: {
    connectAddress: string;
    token: string;
    credentials: ClientCredentials;
    protoDir: string;
    /** The master's web UI (mutual TLS), which tells the cluster's workers. */
    masterUi: DashboardTarget;
    socketFactory?: ISocketFactory;
  }): Promise<SparkContext> {
    const { host, port } = splitAddress(options.connectAddress);
    const tls = {
      ca: Buffer.from(options.credentials.ca),
      cert: Buffer.from(options.credentials.cert),
      key: Buffer.from(options.credentials.key)
    };
    if (options.socketFactory === undefined) {
      return new SparkContext(
        {
          address: options.connectAddress,
          token: options.token,
          tls,
          protoDir: options.protoDir
        },
        options.masterUi
      );
    }
    const bridge = await tunnelBridge(options.socketFactory, host, port);
    const local = bridge.address();
    if (local === null || typeof local === 'string')
      throw new Error('The tunnel bridge bound no port');
    return new SparkContext(
      {
        address: `127.0.0.1:${local.port}`,
        token: options.token,
        tls: { ...tls, servername: host },
        protoDir: options.protoDir
      },
      options.masterUi,
      bridge
    );
  }

  /**
   * The cluster's workers as its master lists them (a child pilot's among them while it runs):
   * address, state (ALIVE, DECOMMISSIONED, DEAD), cores and cores in use by executors.
   */
  async workers(): Promise<MasterWorker[]> {
    return workersOf(await getJsonThrough(this.masterUi, MASTER_STATE_PATH));
  }

  /**
   * Releases the session and closes the connection. A server already gone (the pilot is being
   * cancelled) has no session left to release: that is not a failure.
   */
  override async close(): Promise<void> {
    try {
      await super.close();
    } catch (error) {
      if (!(error instanceof SparkError && error.code === status.UNAVAILABLE)) throw error;
    } finally {
      await new Promise<void>(resolve =>
        this.bridge ? this.bridge.close(() => resolve()) : resolve()
      );
    }
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const found = /^(.*):(\d+)$/.exec(address);
  if (found === null)
    throw new Error(`A Spark Connect address is "host:port"; the record says "${address}"`);
  return { host: found[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(found[2]) };
}

/** A loopback listener whose connections go to host:port through `socketFactory`. */
async function tunnelBridge(
  socketFactory: ISocketFactory,
  host: string,
  port: number
): Promise<Server> {
  const server = createServer((local: Socket) => {
    const remote = socketFactory({ host, port, ssl: false as never, onConnect: () => undefined });
    local.on('error', () => remote.destroy());
    remote.on('error', () => local.destroy());
    local.pipe(remote).pipe(local);
    server.once('close', () => local.destroy());
  });
  // The bridge does not keep the kernel alive by itself.
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}
