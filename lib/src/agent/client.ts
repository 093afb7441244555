import type tls from 'node:tls';
import type { AgentEndpoint } from '../protocol/index.js';
import { connectAgent, readFrames, writeFrame, type ConnectFactory } from './channel.js';
import type { AgentReplies, AgentRequest, ReplyFrame, RequestFrame } from './messages.js';

/** An error raised on the agent, with the agent's stack. */
export class AgentRequestError extends Error {
  readonly remoteStack: string | undefined;

  constructor(error: { name: string; message: string; stack?: string }) {
    super(error.message);
    this.name = error.name;
    this.remoteStack = error.stack;
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** One authenticated connection to one agent; requests are multiplexed by id. */
export class AgentClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedWith: Error | undefined;

  private constructor(
    readonly endpoint: AgentEndpoint,
    private readonly socket: tls.TLSSocket
  ) {
    readFrames(socket, message => {
      const frame = message as ReplyFrame;
      const pending = this.pending.get(frame.requestId);
      if (pending === undefined) return;
      this.pending.delete(frame.requestId);
      if (frame.ok) pending.resolve(frame.value);
      else pending.reject(new AgentRequestError(frame.error));
    });
    const fail = (error: Error): void => {
      this.closedWith ??= error;
      for (const pending of this.pending.values()) pending.reject(this.closedWith);
      this.pending.clear();
    };
    socket.on('error', error =>
      fail(new Error(`connection to the agent on ${endpoint.node} failed: ${error.message}`))
    );
    socket.on('close', () => fail(new Error(`connection to the agent on ${endpoint.node} closed`)));
  }

  static async connect(
    pilotId: string,
    endpoint: AgentEndpoint,
    secret: Buffer,
    connect?: ConnectFactory
  ): Promise<AgentClient> {
    const socket = await connectAgent({
      host: endpoint.host,
      port: endpoint.port,
      pilotId,
      secret,
      ...(connect !== undefined ? { connect } : {})
    });
    return new AgentClient(endpoint, socket);
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  request<R extends AgentRequest>(request: R): Promise<AgentReplies[R['op']]> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (value: unknown) => void, reject });
      const frame: RequestFrame = { requestId, request };
      try {
        writeFrame(this.socket, frame);
      } catch (error) {
        this.pending.delete(requestId);
        reject(error as Error);
      }
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
