import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

/**
 * The opt-in local OTLP/HTTP receiver (JSON bodies): agents export their telemetry to
 * http://127.0.0.1:<port>, and the log events that say something about a session
 * (`claude_code.api_request`, `api_error`, `user_prompt`, `tool_result`, and the Codex / Gemini CLI
 * equivalents) are appended to the spool (`<spool>/otel-logs.jsonl`, one write per request), where
 * the spool adapter reads them like hook lines. Traces and metrics are accepted and not kept.
 * Only the store writer hosts it, so one window listens.
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

export interface OtlpReceiver {
  port: number;
  /** Requests by outcome, for diagnostics. */
  stats: { logs: number; events: number; other: number; rejected: number };
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (the given port if free, else a random one). */
export async function startOtlpReceiver(
  spoolDir: string,
  preferredPort: number,
  log: { warn(m: string): void },
): Promise<OtlpReceiver> {
  await fsp.mkdir(spoolDir, { recursive: true });
  const file = path.join(spoolDir, OTEL_SPOOL_FILE);
  const stats = { logs: 0, events: 0, other: 0, rejected: 0 };
  const reply = (res: http.ServerResponse, code: number, body: object) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'POST' || !/^\/v1\/(logs|traces|metrics)\/?$/.test(url))
      return reply(res, 404, { error: 'not an OTLP/HTTP path' });
    const type = String(req.headers['content-type'] ?? '');
    if (!type.includes('json')) {
      stats.rejected++;
      // protobuf is not read (yet): the agent must export http/json.
      return reply(res, 415, {
        error: 'only application/json OTLP bodies are accepted: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json',
      });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        stats.rejected++;
        reply(res, 413, { error: 'body too large' });
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
        stats.rejected++;
        return reply(res, 400, { error: 'body is not JSON' });
      }
      const lines = otlpLogsToSpoolLines(body, new Date());
      stats.logs++;
      stats.events += lines.length;
      if (lines.length === 0) return reply(res, 200, {});
      // One append per request: concurrent requests never interleave inside a line.
      fsp.appendFile(file, lines.map((l) => `${l}\n`).join(''), { flag: 'a' }).then(
        () => reply(res, 200, {}),
        (err: Error) => {
          log.warn(`telemetry receiver could not write the spool: ${err.message}`);
          reply(res, 503, { error: 'could not store' });
        },
      );
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(preferredPort);
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

/** The environment an agent needs to export its telemetry here (Claude Code's variables). */
export function telemetryEnv(port: number): Record<string, string> {
  return {
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
  };
}
