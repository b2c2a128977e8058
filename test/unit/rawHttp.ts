/**
 * An HTTP/1.1 client that writes the request bytes by hand (node:net), so Host, Origin and the
 * other headers are exactly what a browser, a DNS-rebinding page or an agent sends: node:http would
 * add or fix some of them. Not a test file itself.
 */
import * as net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `headers` as given (in order, no others added but Content-Length), and reads to the close. */
export function rawPost(
  port: number,
  urlPath: string,
  headers: [string, string][],
  body: string | Buffer,
  method = 'POST',
): Promise<RawResponse> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head = [
    `${method} ${urlPath} HTTP/1.1`,
    ...headers.map(([k, v]) => `${k}: ${v}`),
    `Content-Length: ${bytes.length}`,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => {
      // No half-close (as a browser or an agent): the server closes after its reply (Connection: close).
      socket.write(head);
      socket.write(bytes);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A refused request is answered before its body is read: the server may reset the socket then.
    socket.on('error', (err: NodeJS.ErrnoException) =>
      chunks.length && (err.code === 'ECONNRESET' || err.code === 'EPIPE') ? undefined : reject(err),
    );
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}

function parseResponse(text: string): RawResponse {
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = text.slice(split + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    let out = '';
    for (let rest = body; ;) {
      const eol = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, eol), 16);
      if (!size) break;
      out += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 2 + size + 2);
    }
    body = out;
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** The headers an agent's OTLP/HTTP JSON exporter sends to the receiver on `port` with `token`. */
export function agentHeaders(port: number, token: string): [string, string][] {
  return [
    ['Host', `127.0.0.1:${port}`],
    ['Authorization', `Bearer ${token}`],
    ['Content-Type', 'application/json'],
  ];
}
