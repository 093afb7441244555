import { Command, type ParseOptionsResult } from 'commander';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  IntrospectionTokenVerifier,
  JwksTokenVerifier,
  type TokenVerifier
} from '../scistream/auth/token-verifier.js';
import { defaultPilotHome } from '../pilot/environment.js';
import { ControlServer } from '../scistream/s2cs/control-server.js';
import { ListenError } from '../scistream/s2cs/listen-address.js';
import { parsePortRange } from '../scistream/s2cs/port-pool.js';
import { parseBackend } from '../scistream/s2ds/data-plane.js';
import { Gateway } from '../scistream/s2uc/gateway.js';
import { ScistreamClient } from '../scistream/s2uc/scistream-client.js';
import { readCertificate, readServerIdentity } from '../scistream/tls/certificates.js';

interface ServerOptions {
  listenerIp: string;
  bind: string;
  port: string;
  portRange: string;
  type: string;
  serverCrt: string;
  serverKey: string;
  stateDir?: string;
  issuer?: string;
  jwksUri?: string;
  audience?: string;
  anyAudience?: boolean;
  scope: string;
  introspectionUrl?: string;
  clientId?: string;
  clientSecret?: string;
  insecureNoAuth?: boolean;
  peerControl?: string;
  peerCa?: string;
  helloTimeout: string;
}

interface ClientOptions {
  serverCert: string;
  tokenFile?: string;
}

/** The options of a session request (`addSessionOptions`). */
interface SessionOptions {
  numConn: string;
  rate: string;
}

const TOKEN_ENV = 'SCISTREAM_TOKEN';
const CLIENT_SECRET_ENV = 'SCISTREAM_CLIENT_SECRET';

function positiveInt(value: string, key: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new Error(`${key}: "${value}" is not a number; expected a non-negative integer`);
  }
  return number;
}

/** A TCP port to listen on; 0 lets the system choose. */
function listenPort(value: string, key: string): number {
  const port = /^\d{1,5}$/.test(value.trim()) ? Number(value) : NaN;
  if (!(port <= 65535)) {
    throw new Error(`${key}: "${value}" is not a port; expected 0-65535 (0: any free port)`);
  }
  return port;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map(item => item.trim())
    .filter(Boolean);
}

/**
 * The introspection client secret: from the file named by --client-secret, or the environment.
 * Never from the command line itself (every user can read it there), and never echoed.
 */
async function clientSecretFrom(options: ServerOptions): Promise<string | undefined> {
  if (options.clientSecret === undefined) return process.env[CLIENT_SECRET_ENV];
  // The error text leaves out the value: it may be the secret itself, pasted by mistake.
  const read = await readFile(options.clientSecret, 'utf8').then(
    text => ({ text }),
    (error: NodeJS.ErrnoException) => ({ code: error.code ?? 'unknown error' })
  );
  if ('text' in read) return read.text.trim();
  throw new Error(
    `--client-secret: the value given (not shown) is not a readable file (${read.code}); ` +
      `expected a file holding the client secret, or the secret in $${CLIENT_SECRET_ENV} ` +
      '(a secret on the command line is visible to every user of the machine)'
  );
}

async function verifierFrom(options: ServerOptions): Promise<TokenVerifier | null> {
  if (options.insecureNoAuth) return null;
  if (options.introspectionUrl !== undefined) {
    const secret = await clientSecretFrom(options);
    if (options.clientId === undefined || secret === undefined) {
      throw new Error(
        `--introspection-url needs --client-id and the client secret (--client-secret <file> or $${CLIENT_SECRET_ENV})`
      );
    }
    return new IntrospectionTokenVerifier({
      endpoint: options.introspectionUrl,
      clientId: options.clientId,
      clientSecret: secret,
      requiredScope: options.scope
    });
  }
  if (options.issuer === undefined) {
    throw new Error(
      'auth: give --issuer (JWT access tokens) or --introspection-url (opaque tokens); ' +
        '--insecure-no-auth turns auth off'
    );
  }
  if (options.audience === undefined && options.anyAudience !== true) {
    throw new Error(
      `auth: --issuer ${options.issuer} needs --audience <aud>, the audience its tokens name for this gateway ` +
        '(a token the issuer gave for another service is refused); --any-audience accepts tokens for any audience'
    );
  }
  if (options.audience === undefined) {
    process.stderr.write(
      `WARNING: --any-audience: tokens of ${options.issuer} for any service are accepted here; ` +
        'give --audience to accept only tokens meant for this gateway\n'
    );
  }
  return new JwksTokenVerifier({
    issuer: options.issuer,
    jwksUri: options.jwksUri,
    audience: options.audience ?? null,
    requiredScope: options.scope
  });
}

/** The token comes from a file or the environment, never from the command line (ps shows it). */
async function tokenFrom(options: ClientOptions): Promise<string | undefined> {
  if (options.tokenFile !== undefined) return (await readFile(options.tokenFile, 'utf8')).trim();
  return process.env[TOKEN_ENV];
}

async function gatewayFor(address: string, options: ClientOptions): Promise<Gateway> {
  return new Gateway({
    address,
    caCert: (await readCertificate(options.serverCert, '--server-cert')).pem,
    token: await tokenFrom(options)
  });
}

function addClientOptions(command: Command): Command {
  return command
    .requiredOption('--server-cert <file>', 'CA or certificate the S2CS certificates chain to')
    .option('--token-file <file>', `file holding the access token (default: $${TOKEN_ENV})`);
}

/**
 * `--num-conn` and `--rate` of a session request, and with `backend` its `--type` (without it the
 * gateway's default backend serves the session).
 */
function addSessionOptions(command: Command, { backend }: { backend: boolean }): Command {
  command
    .option('--num-conn <n>', 'parallel channels', '5')
    .option('--rate <n>', 'rate in Mbit/s, 0: unlimited (native backend; others refuse > 0)', '0');
  if (backend)
    command.option('--type <backend>', 'S2DS backend: native, stunnel or haproxy', 'native');
  return command;
}

function sessionFrom(options: SessionOptions): { numConn: number; rate: number } {
  return {
    numConn: positiveInt(options.numConn, '--num-conn'),
    rate: positiveInt(options.rate, '--rate')
  };
}

/**
 * A command that also accepts the original SciStream's underscore spellings of its long options
 * (`--listener_ip` for `--listener-ip`, `--num_conn=4`, …): an underscore spelling is rewritten
 * only when the hyphenated option exists on the command being parsed, so each option is defined
 * once. Subcommands created from it behave the same.
 */
class ScistreamCommand extends Command {
  createCommand(name?: string): Command {
    return new ScistreamCommand(name);
  }

  parseOptions(args: string[]): ParseOptionsResult {
    const known = new Set(this.options.map(option => option.long));
    const end = args.indexOf('--');
    const rewritten = args.map((arg, index) => {
      const match = /^(--[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+)(=.*)?$/.exec(arg);
      if (!match || (end >= 0 && index > end)) return arg;
      const hyphenated = match[1].replaceAll('_', '-');
      return known.has(hyphenated) ? hyphenated + (match[2] ?? '') : arg;
    });
    return super.parseOptions(rewritten);
  }
}

/** `s2cs`: the control server of one facility gateway (also the `s2cs` executable). */
export function s2csCommand(): Command {
  return new ScistreamCommand('s2cs')
    .description(
      'SciStream control server for this facility gateway (runs until SIGTERM); ' +
        'the original --listener_ip style spellings are accepted too'
    )
    .requiredOption('--listener-ip <ip>', 'address of this gateway as the other side reaches it')
    .option('--bind <ip>', 'address the control server binds', '0.0.0.0')
    .option('--port <port>', 'control port (0: any free port)', '5000')
    .option('--port-range <low-high>', 'data ports handed to sessions', '5100-5200')
    .option('--type <backend>', 'default S2DS backend: native, stunnel or haproxy', 'native')
    .requiredOption('--server-crt <file>', 'TLS certificate of the control server (PEM)')
    .requiredOption('--server-key <file>', 'its private key (PEM)')
    .option(
      '--state-dir <dir>',
      'session records, private and locked (default: one per gateway, ' +
        '$PILOT_STREAMING_HOME/scistream/s2cs-<bind>-<bound port>)'
    )
    .option('--issuer <url>', 'OIDC issuer whose JWT access tokens are accepted')
    .option('--jwks-uri <url>', "issuer's JWKS (default: from its discovery document)")
    .option('--audience <aud>', 'the audience JWT access tokens must name (required with --issuer)')
    .option('--any-audience', 'accept JWT access tokens for any audience (warns)')
    .option('--scope <scope>', 'required token scope', 'scistream')
    .option('--introspection-url <url>', 'validate opaque tokens by RFC 7662 introspection')
    .option('--client-id <id>', 'introspection client id')
    .option(
      '--client-secret <file>',
      `file holding the introspection client secret (default: $${CLIENT_SECRET_ENV})`
    )
    .option('--insecure-no-auth', 'accept calls without a token (warns; for closed test networks)')
    .option('--peer-control <host:port>', "producer gateway's S2CS for consumer sessions")
    .option('--peer-ca <file>', "CA of the producer gateway's S2CS certificate")
    .option(
      '--hello-timeout <seconds>',
      "how long a producer request waits for the producer's hello",
      '180'
    )
    .action(async (options: ServerOptions) => {
      const port = listenPort(options.port, '--port');
      // Checked before anything is created, so a wrong file leaves nothing behind.
      const tls = { certFile: options.serverCrt, keyFile: options.serverKey };
      await readServerIdentity(tls, { cert: '--server-crt', key: '--server-key' });
      if (options.peerCa !== undefined) await readCertificate(options.peerCa, '--peer-ca');
      const home = defaultPilotHome();
      const server = new ControlServer({
        bindHost: options.bind,
        port,
        listenerHost: options.listenerIp,
        portRange: parsePortRange(options.portRange, '--port-range'),
        ...(options.stateDir === undefined
          ? { stateRoot: join(home, 'scistream') }
          : { stateDir: resolve(options.stateDir) }),
        tls,
        auth: await verifierFrom(options),
        defaultBackend: parseBackend(options.type),
        helloTimeoutMs: positiveInt(options.helloTimeout, '--hello-timeout') * 1000,
        peerControl: options.peerControl,
        peerCaFile: options.peerCa,
        onStateLost: error => {
          // Another gateway owns the records now: stop at once and leave them to it.
          console.error(`${error.message}; stopping without touching the state directory`);
          process.exit(1);
        }
      });
      // Signals are handled from the start, so a SIGTERM during start-up also shuts down cleanly.
      const stopped = new Promise<void>(resolve => {
        const stop = (signal: string) => {
          console.error(`${signal}: releasing all sessions`);
          server.close().then(resolve, (error: unknown) => {
            console.error(`shutdown failed: ${(error as Error).message}`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      const bound = await server.start().catch((error: unknown) => {
        throw error instanceof ListenError
          ? new Error(`--${error.option}: ${error.message}`, { cause: error })
          : error;
      });
      if (bound > 0) console.log(JSON.stringify({ event: 'listening', port: bound }));
      await stopped;
    });
}

/** `s2uc`: the user client (also the `s2uc` executable). */
export function s2ucCommand(): Command {
  const s2uc = new ScistreamCommand('s2uc').description(
    'SciStream user client; the original --num_conn style spellings are accepted too'
  );

  addClientOptions(
    addSessionOptions(
      s2uc
        .command('stream')
        .description(
          'Set up a whole stream across both gateways; prints what the consumer connects to'
        )
        .requiredOption('--producer-s2cs <host:port>', "producer gateway's S2CS")
        .requiredOption('--consumer-s2cs <host:port>', "consumer gateway's S2CS")
        .requiredOption('--producer-listeners <list>', "producer's host:port list, comma-separated")
        .option(
          '--producer-s2cs-from-consumer <host:port>',
          'producer S2CS as the consumer gateway reaches it'
        ),
      { backend: true }
    )
  ).action(
    async (
      options: ClientOptions &
        SessionOptions & {
          producerS2cs: string;
          consumerS2cs: string;
          producerListeners: string;
          producerS2csFromConsumer?: string;
          type: string;
        }
    ) => {
      const producer = await gatewayFor(options.producerS2cs, options);
      const consumer = await gatewayFor(options.consumerS2cs, options);
      try {
        const stream = await new ScistreamClient({
          producer,
          consumer,
          producerControlFromConsumer: options.producerS2csFromConsumer
        }).createStream({
          producerListeners: splitList(options.producerListeners),
          ...sessionFrom(options),
          backend: parseBackend(options.type)
        });
        console.log(`uid ${stream.uid}`);
        console.log(`consumer listeners ${stream.consumerListeners.join(' ')}`);
        console.log(`set-up ${stream.setupMs.toFixed(1)} ms`);
      } finally {
        producer.close();
        consumer.close();
      }
    }
  );

  addClientOptions(
    addSessionOptions(
      s2uc
        .command('inbound-request')
        .description('Producer side: request gateway ports and map them onto the producer')
        .requiredOption('--s2cs <host:port>', "producer gateway's S2CS")
        .requiredOption('--remote-ip <ip>', 'producer host')
        .requiredOption('--receiver-ports <list>', "producer's ports, comma-separated"),
      { backend: true }
    )
  ).action(
    async (
      options: ClientOptions &
        SessionOptions & { s2cs: string; remoteIp: string; receiverPorts: string; type: string }
    ) => {
      const gateway = await gatewayFor(options.s2cs, options);
      const uid = randomUUID();
      const prodListeners = splitList(options.receiverPorts).map(
        port => `${options.remoteIp}:${positiveInt(port, '--receiver-ports')}`
      );
      try {
        const { numConn, rate } = sessionFrom(options);
        const [reserved] = await Promise.all([
          gateway.req(uid, 'PROD', numConn, rate, { backend: parseBackend(options.type) }),
          gateway.hello(uid, prodListeners)
        ]);
        const updated = await gateway.update(uid, reserved.prod_listeners, 'PROD');
        console.log(`uid ${uid}`);
        console.log(`listeners ${updated.listeners.join(',')}`);
      } finally {
        gateway.close();
      }
    }
  );

  addClientOptions(
    addSessionOptions(
      s2uc
        .command('outbound-request <uid> <prodListeners>')
        .description(
          'Consumer side: request gateway ports and connect them to the producer gateway'
        )
        .requiredOption('--s2cs <host:port>', "consumer gateway's S2CS")
        .option(
          '--producer-s2cs <host:port>',
          "producer gateway's S2CS as the consumer gateway reaches it"
        ),
      { backend: false }
    )
  ).action(
    async (
      uid: string,
      prodListeners: string,
      options: ClientOptions & SessionOptions & { s2cs: string; producerS2cs?: string }
    ) => {
      const gateway = await gatewayFor(options.s2cs, options);
      try {
        const { numConn, rate } = sessionFrom(options);
        await gateway.req(uid, 'CONS', numConn, rate);
        const updated = await gateway.update(uid, splitList(prodListeners), 'CONS', {
          peer: options.producerS2cs
        });
        console.log(`listeners ${updated.listeners.join(',')}`);
      } finally {
        gateway.close();
      }
    }
  );

  addClientOptions(
    s2uc
      .command('release <uid>')
      .description('Release a session on one or more gateways')
      .requiredOption('--s2cs <list>', "gateways' S2CS addresses, comma-separated")
  ).action(async (uid: string, options: ClientOptions & { s2cs: string }) => {
    for (const address of splitList(options.s2cs)) {
      const gateway = await gatewayFor(address, options);
      try {
        await gateway.release(uid);
        console.log(`released ${uid} on ${address}`);
      } finally {
        gateway.close();
      }
    }
  });

  addClientOptions(
    s2uc
      .command('status [uid]')
      .description('Sessions on a gateway (all of yours, or one with its counters)')
      .requiredOption('--s2cs <host:port>', "gateway's S2CS")
  ).action(async (uid: string | undefined, options: ClientOptions & { s2cs: string }) => {
    const gateway = await gatewayFor(options.s2cs, options);
    try {
      const result =
        uid === undefined
          ? await gateway.list()
          : { status: await gateway.status(uid), metrics: await gateway.metrics(uid) };
      console.log(JSON.stringify(result, null, 2));
    } finally {
      gateway.close();
    }
  });
  return s2uc;
}

/** Adds `s2cs` and `s2uc` under `program` (`pilot-streaming s2cs …`). */
export function addScistreamCommands(program: Command): void {
  program.addCommand(s2csCommand());
  program.addCommand(s2ucCommand());
}

/** Runs one command as its own executable (the `s2cs` and `s2uc` bins). */
export function runStandalone(command: Command): void {
  command
    .showHelpAfterError()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    });
}
