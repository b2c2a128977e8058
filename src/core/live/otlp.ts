import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { mkdirPrivate, tightenIfOurs, writePrivate } from '../privateFs';
import {
  REFUSAL_REASONS,
  type Refusal,
  type RefusalReason,
  otlpHeadersEnv,
  readToken,
  refusalFor,
  tokenFileFor,
} from './receiverGuard';

/**
 * The opt-in local OTLP/HTTP receiver (JSON bodies): agents export their telemetry to
 * http://127.0.0.1:<port>, and the log events that say something about a session
 * (`claude_code.api_request`, `api_error`, `user_prompt`, `tool_result`, and the Codex / Gemini CLI
 * equivalents) are appended to the spool (`<spool>/otel-logs.jsonl`, one write per request), where
 * the spool adapter reads them like hook lines. Traces and metrics are accepted and not kept.
 * Only the store writer hosts it, so one window listens. Only the user's agents may write to it:
 * every request needs the install's token and is refused when a page could have sent it
 * (receiverGuard.ts).
 */

export const OTEL_SPOOL_FILE = 'otel-logs.jsonl';
/** Larger bodies are refused (413): a log batch of an agent is tens of kilobytes. */
const MAX_BODY = 16 * 1024 * 1024;
/** The events kept, by the last part of their name (`claude_code.api_request`, `codex.api_request`, `gemini_cli.api_request`...). */
const KEPT = new Set(['api_request', 'api_error', 'user_prompt', 'tool_result']);
/** Attributes never spooled: content, not facts. */
const DROPPED = new Set([
  'prompt',
  'tool_input',
  'tool_parameters',
  'user.email',
  'user.id',
  'response',
  'function_args',
]);

type Rec = Record<string, unknown>;

function isObject(v: unknown): v is Rec {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An OTLP AnyValue as a plain scalar (arrays and maps are dropped: not needed here). */
function anyValue(v: unknown): string | number | boolean | null {
  if (!isObject(v)) return null;
  if (typeof v.stringValue === 'string') return v.stringValue.slice(0, 500);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (typeof v.doubleValue === 'number') return v.doubleValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  return null;
}

function attributes(list: unknown): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== 'string' || DROPPED.has(kv.key)) continue;
    const v = anyValue(kv.value);
    if (v !== null) out[kv.key] = v;
  }
  return out;
}

/** The spool lines for an OTLP logs request body (ExportLogsServiceRequest as JSON). */
export function otlpLogsToSpoolLines(body: unknown, receivedAt: Date): string[] {
  const lines: string[] = [];
  if (!isObject(body) || !Array.isArray(body.resourceLogs)) return lines;
  for (const rl of body.resourceLogs) {
    if (!isObject(rl)) continue;
    const resource = attributes(isObject(rl.resource) ? rl.resource.attributes : undefined);
    for (const sl of Array.isArray(rl.scopeLogs) ? rl.scopeLogs : []) {
      if (!isObject(sl)) continue;
      for (const r of Array.isArray(sl.logRecords) ? sl.logRecords : []) {
        if (!isObject(r)) continue;
        const attrs = attributes(r.attributes);
        const name = String(attrs['event.name'] ?? anyValue(r.body) ?? '');
        const short = name.slice(name.lastIndexOf('.') + 1);
        if (!KEPT.has(short)) continue;
        const sessionId = attrs['session.id'] ?? attrs['conversation.id'] ?? attrs['gen_ai.conversation.id'];
        if (typeof sessionId !== 'string') continue;
        lines.push(
          JSON.stringify({
            v: 1,
            source: 'otel',
            agent: String(resource['service.name'] ?? 'unknown'),
            received_at: receivedAt.toISOString(),
            otel: {
              event: short,
              session_id: sessionId,
              timestamp: attrs['event.timestamp'] ?? null,
              attributes: attrs,
            },
          }),
        );
      }
    }
  }
  return lines;
}

export interface ReceiverStats {
  /** Logs requests accepted, and the session events they held. */
  logs: number;
  events: number;
  /** Traces and metrics requests accepted (not kept). */
  other: number;
  /** Requests refused, by reason (shown in Diagnostics). */
  refused: Record<RefusalReason, number>;
}

export interface OtlpReceiver {
  port: number;
  stats: ReceiverStats;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  spoolDir: string;
  /** Used when free, else a random port. */
  preferredPort: number;
  /** The install's token (receiverGuard.ts receiverToken): every request must carry it. */
  token: string;
}

/** Listens on 127.0.0.1 (the given port if free, else a random one). */
export async function startOtlpReceiver(o: ReceiverOptions, log: { warn(m: string): void }): Promise<OtlpReceiver> {
  mkdirPrivate(o.spoolDir);
  const file = path.join(o.spoolDir, OTEL_SPOOL_FILE);
  tightenIfOurs(file);
  const refused = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  const stats: ReceiverStats = { logs: 0, events: 0, other: 0, refused };
  const reply = (res: http.ServerResponse, code: number, body: object) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: http.ServerResponse, r: Refusal) => {
    // The first refusal of each kind is logged (by its reason only: never a header's value, which
    // may be a token); the counts are in Diagnostics.
    if (refused[r.reason]++ === 0) log.warn(`telemetry receiver refused a request (${r.reason}): ${r.message}`);
    reply(res, r.status, { error: r.message });
  };
  // requireHostHeader off: a request without a Host is refused (and counted) like a wrong one.
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    const refusal = refusalFor(req, (server.address() as AddressInfo).port, o.token, MAX_BODY);
    if (refusal) {
      // Nothing of the body is read: the connection closes after the reply.
      res.setHeader('connection', 'close');
      return refuse(res, refusal);
    }
    const url = req.url ?? '';
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        if (size - c.length <= MAX_BODY) refuse(res, { status: 413, reason: 'too_large', message: 'body too large' });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      if (!url.startsWith('/v1/logs')) {
        stats.other++;
        return reply(res, 200, {});
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return refuse(res, { status: 400, reason: 'not_json', message: 'body is not JSON' });
      }
      const lines = otlpLogsToSpoolLines(body, new Date());
      stats.logs++;
      stats.events += lines.length;
      if (lines.length === 0) return reply(res, 200, {});
      // One append per request: concurrent requests never interleave inside a line.
      writePrivate(file, lines.map((l) => `${l}\n`).join(''), 'a').then(
        () => reply(res, 200, {}),
        (err: Error) => {
          log.warn(`telemetry receiver could not write the spool: ${err.message}`);
          reply(res, 503, { error: 'could not store' });
        },
      );
    });
  });
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(o.preferredPort);
  } catch {
    await listen(0);
  }
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    stats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Where the receiver says it listens (written by the writer, read by Show Telemetry Setup). */
export async function writeEndpointFile(endpointFile: string, port: number): Promise<void> {
  await writePrivate(endpointFile, JSON.stringify({ port, pid: process.pid }));
}

/** The port in the endpoint file, or 0 when there is none. */
export async function readEndpointPort(endpointFile: string): Promise<number> {
  try {
    return Number((JSON.parse(await fsp.readFile(endpointFile, 'utf8')) as { port?: number }).port) || 0;
  } catch {
    return 0;
  }
}

/**
 * The environment an agent needs to export its telemetry here (Claude Code's variables), the token
 * included.
 */
export function telemetryEnv(port: number, token: string): Record<string, string> {
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_HEADERS: otlpHeadersEnv(token),
  };
}

/** telemetryEnv for the receiver as its files say, or null while it has not started. */
export async function receiverEnv(endpointFile: string): Promise<Record<string, string> | null> {
  const port = await readEndpointPort(endpointFile);
  const token = await readToken(tokenFileFor(endpointFile));
  return port && token ? telemetryEnv(port, token) : null;
}
