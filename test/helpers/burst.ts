import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface BurstRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as an HTML form (application/x-www-form-urlencoded) instead of `body`. */
  form?: Record<string, string>;
}

export interface BurstResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the answer is JSON, otherwise the text. */
  body: Record<string, unknown> & { code?: string };
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function send(socket: Socket, host: string, port: number, r: BurstRequest): Promise<BurstResponse> {
  const payload = r.form
    ? new URLSearchParams(r.form).toString()
    : r.body === undefined
      ? undefined
      : JSON.stringify(r.body);
  const type = r.form ? 'application/x-www-form-urlencoded' : 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host,
        port,
        method: r.method ?? 'POST',
        path: r.path,
        headers: {
          ...(payload === undefined
            ? {}
            : {
                'content-type': type,
                'content-length': String(Buffer.byteLength(payload)),
              }),
          connection: 'close',
          ...r.headers,
        },
        // The connection opened beforehand: no handshake between the release and the request.
        createConnection: () => socket,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const json = /json/.test(res.headers['content-type'] ?? '');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: json && text ? (JSON.parse(text) as BurstResponse['body']) : { text },
          });
          socket.destroy();
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Fires the requests at the server all at once, as an attacker's burst would: one connection per
 * request is opened first, and only when every connection is up are all requests written, in
 * one synchronous loop. So every request is in the server's hands before it answers any.
 */
export async function burst(baseUrl: string, requests: BurstRequest[]): Promise<BurstResponse[]> {
  const url = new URL(baseUrl);
  const host = url.hostname;
  const port = Number(url.port);
  const sockets = await Promise.all(requests.map(() => open(host, port)));
  // The barrier: everything below starts in this one tick.
  const answers = requests.map((r, i) => send(sockets[i], host, port, r));
  return Promise.all(answers);
}

/** How many answers had each `status code` (e.g. `{ '401 INVALID_CREDENTIALS': 20, … }`). */
export function tally(responses: BurstResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of responses) {
    const key = `${r.status} ${r.body.code ?? ''}`.trim();
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
