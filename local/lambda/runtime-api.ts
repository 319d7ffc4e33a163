import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local implementation of the Lambda Runtime API (the `2018-06-01` interface that a runtime
 * client polls), serving exactly one container. The runtime client computes the remaining time as
 * `Lambda-Runtime-Deadline-Ms - Date.now()`, so the deadline is absolute epoch milliseconds; and the
 * native client needs `Content-Type` on every `/next` answer.
 */

const API_PREFIX = '/2018-06-01/runtime';

/** What the container hands to the runtime on `/invocation/next`. */
export interface RuntimeInvocation {
  requestId: string;
  /** The event, already serialised as JSON. */
  eventJson: string;
  /** Absolute epoch milliseconds. */
  deadlineMs: number;
  functionArn: string;
  traceId: string;
}

/** Calls from the runtime, in the order it makes them. */
export interface RuntimeApiListener {
  /** The runtime asks for work: the first call marks the end of INIT. */
  onNextRequested(): void;
  onInvocationResponse(requestId: string, body: Buffer): void;
  onInvocationError(requestId: string, body: Buffer, errorType: string | undefined): void;
  onInitError(body: Buffer, errorType: string | undefined): void;
}

export class RuntimeApiServer {
  private heldNext: ServerResponse | undefined;
  private pending: RuntimeInvocation | undefined;
  private activeRequestId: string | undefined;

  private readonly server: Server;
  /** `host:port`, the value of AWS_LAMBDA_RUNTIME_API; set once listening. */
  address = '';

  private constructor(private readonly listener: RuntimeApiListener) {
    this.server = createServer((req, res) => this.route(req, res));
    // The runtime long-polls `/next` for as long as the container stays idle.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 0;
  }

  static async start(listener: RuntimeApiListener): Promise<RuntimeApiServer> {
    const instance = new RuntimeApiServer(listener);
    await new Promise<void>((resolve, reject) => {
      instance.server.once('error', reject);
      instance.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = instance.server.address() as AddressInfo;
    instance.address = `127.0.0.1:${port}`;
    return instance;
  }

  /** Queues an invocation; it goes out on the runtime's current or next `/next` call. */
  deliver(invocation: RuntimeInvocation): void {
    this.pending = invocation;
    const held = this.heldNext;
    if (held) {
      this.heldNext = undefined;
      this.sendPending(held);
    }
  }

  async close(): Promise<void> {
    this.heldNext?.destroy();
    this.heldNext = undefined;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path === `${API_PREFIX}/invocation/next`) return this.next(res);
    const invocation = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && invocation) {
      return this.withBody(req, res, (body) => this.invocationResult(req, res, decodeURIComponent(invocation[1]!), invocation[2]!, body));
    }
    if (req.method === 'POST' && path === `${API_PREFIX}/init/error`) {
      return this.withBody(req, res, (body) => {
        this.listener.onInitError(body, errorTypeHeader(req));
        accepted(res);
      });
    }
    sendJson(res, 404, { errorType: 'InvalidRequest', errorMessage: `Unknown Runtime API path ${req.method} ${path}` });
  }

  private next(res: ServerResponse): void {
    this.heldNext?.destroy();
    this.heldNext = undefined;
    this.listener.onNextRequested();
    if (this.pending) return this.sendPending(res);
    this.heldNext = res;
  }

  private sendPending(res: ServerResponse): void {
    const invocation = this.pending!;
    this.pending = undefined;
    this.activeRequestId = invocation.requestId;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(invocation.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': invocation.functionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
      'Content-Length': Buffer.byteLength(invocation.eventJson),
    });
    res.end(invocation.eventJson);
  }

  private invocationResult(req: IncomingMessage, res: ServerResponse, requestId: string, kind: string, body: Buffer): void {
    if (requestId !== this.activeRequestId) {
      return sendJson(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    }
    this.activeRequestId = undefined;
    if (kind === 'response') this.listener.onInvocationResponse(requestId, body);
    else this.listener.onInvocationError(requestId, body, errorTypeHeader(req));
    accepted(res);
  }

  private withBody(req: IncomingMessage, res: ServerResponse, use: (body: Buffer) => void): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => use(Buffer.concat(chunks)));
    req.on('error', () => res.destroy());
  }
}

function errorTypeHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['lambda-runtime-function-error-type'];
  return Array.isArray(value) ? value[0] : value;
}

function accepted(res: ServerResponse): void {
  sendJson(res, 202, { status: 'OK' });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
