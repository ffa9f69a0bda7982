import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../api/errors.ts';
import type { RuntimeLogger } from '../util/logger.ts';
import { HttpError, type RestReply, type Router } from './router.ts';

const MAX_BODY_BYTES = 1 << 20;

export interface BasicAuth {
  user: string;
  password: string;
}

export interface RestServerOptions {
  /** `http://host:port` (empty host = every interface; port 0 = any free port). */
  listeners: string[];
  auth?: BasicAuth;
  logger: RuntimeLogger;
}

/**
 * The worker's HTTP interface (node:http). Errors are answered in Kafka Connect's shape
 * `{"error_code": <status>, "message": "…"}`; with basic auth every path needs the credentials.
 */
export class RestServer {
  private readonly servers: Server[] = [];
  private urls: string[] = [];

  constructor(private readonly router: Router, private readonly options: RestServerOptions) {}

  /** Listens on every listener; resolves with their URLs (actual ports). A busy port is an error naming the key. */
  async start(): Promise<string[]> {
    const urls: string[] = [];
    for (const listener of this.options.listeners) {
      const { host, port } = parseListener(listener);
      const server = createServer((req, res) => void this.handle(req, res));
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error: NodeJS.ErrnoException) => {
          reject(new Error(`REST API cannot listen on ${listener} (listeners): ${error.code === 'EADDRINUSE' ? 'the port is in use (another worker?)' : error.message}`));
        });
        server.listen(port, host === '' ? undefined : host, () => resolve());
      });
      this.servers.push(server);
      const address = server.address() as AddressInfo;
      const shownHost = host === '' ? '0.0.0.0' : host.includes(':') ? `[${host}]` : host;
      urls.push(`http://${shownHost}:${address.port}`);
    }
    this.urls = urls;
    return urls;
  }

  get addresses(): string[] {
    return this.urls;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    })));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    let reply: RestReply;
    try {
      reply = await this.dispatch(req);
    } catch (error) {
      if (error instanceof HttpError) reply = { status: error.status, body: { error_code: error.status, message: error.message } };
      else {
        this.options.logger.error('REST request failed', { method: req.method, url: req.url, error: (error as Error)?.stack ?? String(error) });
        reply = { status: 500, body: { error_code: 500, message: (error as Error)?.message ?? String(error) } };
      }
    }
    if (reply.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="pika-connect"');
    if (reply.text !== undefined) {
      res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'text/plain; charset=utf-8' });
      res.end(reply.text);
    } else if (reply.body === undefined) {
      res.writeHead(reply.status);
      res.end();
    } else {
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    }
    this.options.logger.debug('REST request', { method: req.method, url: req.url, status: reply.status, ms: Date.now() - started });
  }

  private async dispatch(req: IncomingMessage): Promise<RestReply> {
    if (this.options.auth && !authorized(req.headers.authorization, this.options.auth)) {
      throw new HttpError(401, 'Credentials are required (HTTP basic auth)');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const match = this.router.match(method, url.pathname);
    if (match.kind === 'not-found') throw new HttpError(404, `No endpoint ${method} ${url.pathname}`);
    if (match.kind === 'method-not-allowed') throw new HttpError(405, `${method} is not allowed on ${url.pathname}; allowed: ${match.allowed.join(', ')}`);
    const body = await readJsonBody(req);
    return match.handler({ method, path: url.pathname, params: match.params, query: url.searchParams, body });
  }
}

export function parseListener(listener: string): { host: string; port: number } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*):(\d+)\/?$/.exec(listener.trim());
  if (!m) throw new ConfigError([`listeners: not a URL like http://127.0.0.1:8083: "${listener}"`]);
  if (m[1]!.toLowerCase() !== 'http') throw new ConfigError([`listeners: ${listener}: only http listeners are supported; put a TLS proxy in front for https`]);
  const host = m[2]!.replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(m[3]) };
}

function authorized(header: string | undefined, auth: BasicAuth): boolean {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'base64');
  const expected = Buffer.from(`${auth.user}:${auth.password}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `Request body is not valid JSON: ${(error as Error).message}`);
  }
}
