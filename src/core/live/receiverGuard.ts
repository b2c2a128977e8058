import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import * as path from 'node:path';
import { writePrivate } from '../privateFs';

/**
 * Who may write to the telemetry receiver: only the user's own agents. Listening on 127.0.0.1 keeps
 * other machines out but not other accounts on this one, nor a web page the user visits (a browser
 * sends a `text/plain` POST to any address without asking, and a DNS-rebinding page reaches
 * 127.0.0.1 under its own host name). So a request must carry the install's token, which only the
 * user can read (a 0600 file), must name our own address as its Host, must not come from a page
 * (no Origin), and must be exactly JSON. Pure checks, so each refusal is tested on its own.
 */

/** The token file, next to the receiver's endpoint file (both in the extension's private storage). */
export function tokenFileFor(endpointFile: string): string {
  return path.join(path.dirname(endpointFile), 'otlp-token');
}

/** 32 random bytes, base64url: no character that needs escaping in a header or an env variable. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The install's token, created (0600) on first use and kept; two starts at once agree on the first.
 * The token is written whole to a temporary file and then linked into place (link fails when the
 * name exists), so no start ever reads a token file that another start has created but not yet filled.
 */
export async function receiverToken(tokenFile: string): Promise<string> {
  const existing = await readToken(tokenFile);
  if (existing) return existing;
  const token = newToken();
  const temp = `${tokenFile}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writePrivate(temp, `${token}\n`, 'wx');
  try {
    await fsp.link(temp, tokenFile);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const other = await readToken(tokenFile);
    if (other) return other;
    // A damaged file: replaced (the agents set up with the old one were refused anyway).
    await fsp.rename(temp, tokenFile);
    return token;
  } finally {
    await fsp.rm(temp, { force: true });
  }
}

/** The token as saved, or null when there is none (read by Show Telemetry Setup too). */
export async function readToken(tokenFile: string): Promise<string | null> {
  const text = await fsp.readFile(tokenFile, 'utf8').catch(() => '');
  const token = text.trim();
  return TOKEN_SHAPE.test(token) ? token : null;
}

/** Why a request was refused; Diagnostics counts each (never with the header that carried it). */
export type RefusalReason = 'host' | 'origin' | 'token' | 'not_found' | 'media_type' | 'too_large' | 'not_json';

export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'host',
  'origin',
  'token',
  'not_found',
  'media_type',
  'too_large',
  'not_json',
];

export interface Refusal {
  status: number;
  reason: RefusalReason;
  message: string;
}

/** The only Host values a request to us may carry: our address as an agent on this machine writes it. */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/**
 * Whether a `Content-Type` is JSON as OTLP/HTTP sends it: exactly `application/json` (any case),
 * with at most a UTF-8 `charset` parameter. `text/plain; x=json` (what a page can send without a
 * preflight) and `application/json; x=y` are not.
 */
export function isJsonMediaType(header: string | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  return params.every((p) => {
    const eq = p.indexOf('=');
    if (eq < 0) return false;
    const name = p.slice(0, eq).trim().toLowerCase();
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    return name === 'charset' && (value === 'utf-8' || value === 'utf8');
  });
}

/** Constant-time: a wrong token's time says nothing about how much of it was right. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

const OTLP_PATH = /^\/v1\/(logs|traces|metrics)\/?$/;

/**
 * The refusal for a request's line and headers, or null when its body may be read. Order: where it
 * is addressed and who sends it first (a page learns nothing, not even which paths exist), then
 * what it is.
 */
export function refusalFor(
  req: { method?: string; url?: string; headers: IncomingHttpHeaders },
  port: number,
  token: string,
  maxBody: number,
): Refusal | null {
  const h = req.headers;
  if (!allowedHosts(port).has(String(h.host ?? '').toLowerCase()))
    return { status: 403, reason: 'host', message: `Host must be 127.0.0.1:${port} or localhost:${port}` };
  if (h.origin !== undefined)
    return { status: 403, reason: 'origin', message: 'requests from web pages (with an Origin) are refused' };
  if (!bearerMatches(h.authorization, token))
    return {
      status: 401,
      reason: 'token',
      message: "missing or wrong token: set OTEL_EXPORTER_OTLP_HEADERS as Agent Handler's Show Telemetry Setup says",
    };
  if (req.method !== 'POST' || !OTLP_PATH.test(req.url ?? ''))
    return { status: 404, reason: 'not_found', message: 'not an OTLP/HTTP path' };
  if (!isJsonMediaType(h['content-type']))
    // protobuf is not read (yet): the agent must export http/json.
    return {
      status: 415,
      reason: 'media_type',
      message: 'only application/json OTLP bodies are accepted: set OTEL_EXPORTER_OTLP_PROTOCOL=http/json',
    };
  if (Number(h['content-length'] ?? 0) > maxBody)
    return { status: 413, reason: 'too_large', message: 'body too large' };
  return null;
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS` carrying the token: the OTel spec's format is W3C Baggage's
 * (`key=value` pairs, values percent-encoded), so the space after `Bearer` is `%20`.
 */
export function otlpHeadersEnv(token: string): string {
  return `Authorization=${encodeURIComponent(`Bearer ${token}`)}`;
}
