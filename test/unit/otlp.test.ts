/**
 * The OTLP/HTTP receiver over real HTTP on 127.0.0.1, fed every request body Claude Code exported in
 * test/fixtures/claude/<version>/otel/ (from shared/fixtures/real/claude-otel), then indexed next to the same version's transcripts.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostics } from '../../src/core/diagnostics';
import { Indexer } from '../../src/core/ingest/indexer';
import { OTEL_SPOOL_FILE, otlpLogsToSpoolLines, startOtlpReceiver, telemetryEnv } from '../../src/core/live/otlp';
import {
  bearerMatches,
  isJsonMediaType,
  newToken,
  readToken,
  receiverToken,
  tokenFileFor,
} from '../../src/core/live/receiverGuard';
import { ADAPTERS } from '../../src/core/sources/registry';
import { listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { CLAUDE_FIXTURES, fixtureHome, mustGet, recordingLogger, silentLogger, tempDir } from './helpers';
import { agentHeaders, rawPost } from './rawHttp';

/** Real OTLP/HTTP JSON bodies per Claude Code version (copied from shared/fixtures/real/claude-otel). */
const otelFixtures = (version: string) => path.join(CLAUDE_FIXTURES, version, 'otel');

const TOKEN = newToken();

/** A Diagnostics with nothing in it but what a test adds. */
const EMPTY_DIAGNOSTICS = {
  files: 0,
  files_deleted: 0,
  sessions: 0,
  requests: 0,
  lines_skipped: 0,
  per_agent: [],
  files_with_skips: [],
  unpriced_models: [],
};

/** A POST as an agent's exporter sends it (its Host, the token), with another Content-Type if given. */
function post(port: number, urlPath: string, body: string, type = 'application/json') {
  return rawPost(
    port,
    urlPath,
    agentHeaders(port, TOKEN).map(([k, v]) => [k, k === 'Content-Type' ? type : v]),
    body,
  );
}

async function receiver(spoolDir: string) {
  return startOtlpReceiver({ spoolDir, preferredPort: 0, token: TOKEN }, silentLogger);
}

describe('OTLP/HTTP receiver (real Claude Code exports)', () => {
  for (const [version, expected] of [
    // Counted by hand from the fixture's *-logs.json: api_request + tool_result + user_prompt per session.id.
    [
      '2.1.197',
      { 'e47fc0b4-81c5-4ad6-9e15-78a0f4a0fe8d': 5 + 2 + 3, '5be170c6-ce9c-41d3-8673-83b7bb7393a6': 4 + 2 + 1 },
    ],
    [
      '2.1.332',
      { 'e2dbd8e3-b449-40d6-b4a3-2e0d25f8af68': 5 + 1 + 3, '3f810603-0856-4734-bc5d-451c3608d6f2': 5 + 2 + 2 },
    ],
  ] as const) {
    it(`${version}: every exported body is accepted; the session events are counted per session, no rows made`, async () => {
      const spoolDir = path.join(await tempDir('ah-otel-'), 'spool');
      const rx = await receiver(spoolDir);
      try {
        assert.ok(rx.port > 0);
        const dir = otelFixtures(version);
        const files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
        for (const f of files) {
          const kind = /-(logs|traces|metrics)\.json$/.exec(f)![1];
          const res = await post(rx.port, `/v1/${kind}`, await fsp.readFile(path.join(dir, f), 'utf8'));
          assert.equal(res.status, 200, `${f}: ${res.body}`);
        }
        const total = Object.values(expected).reduce((a, b) => a + b, 0);
        assert.equal(rx.stats.events, total);
        const spoolText = await fsp.readFile(path.join(spoolDir, OTEL_SPOOL_FILE), 'utf8');
        assert.equal(spoolText.split('\n').filter(Boolean).length, total);
        assert.doesNotMatch(spoolText, /user\.id|"prompt"/, 'no user id or prompt text in the spool');

        const home = await fixtureHome(version);
        const store = await Store.open(null);
        await new Indexer(store, ADAPTERS, { home, env: {}, spoolDir }, silentLogger).scanAll();
        const sessions = new Map(listSessions(store).map((s) => [s.session_id, s]));
        for (const [id, n] of Object.entries(expected)) {
          const s = mustGet(sessions, id);
          assert.equal(s.n_otel_events, n, id);
          assert.equal(s.metrics_source, 'transcript'); // the transcript owns the numbers
        }
        // Telemetry never creates session rows: only the transcripts' sessions (2 + 1 subagent).
        assert.equal(sessions.size, 3);
      } finally {
        await rx.close();
      }
    });
  }

  it('refuses protobuf and non-JSON bodies with a clear message, and unknown paths', async () => {
    const rx = await receiver(path.join(await tempDir('ah-otel-'), 'spool'));
    try {
      const pb = await post(rx.port, '/v1/logs', 'x', 'application/x-protobuf');
      assert.equal(pb.status, 415);
      assert.match(pb.body, /OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);
      assert.equal((await post(rx.port, '/v1/logs', '{not json')).status, 400);
      assert.equal((await post(rx.port, '/other', '{}')).status, 404);
      const env = telemetryEnv(rx.port, TOKEN);
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${rx.port}`);
      // W3C Baggage format, as the OTel spec says: the value percent-encoded (the space as %20).
      assert.equal(env.OTEL_EXPORTER_OTLP_HEADERS, `Authorization=Bearer%20${TOKEN}`);
    } finally {
      await rx.close();
    }
  });
});

/** One Claude Code api_request event: indexed as one spool line when accepted. */
const ONE_EVENT = JSON.stringify({
  resourceLogs: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
      scopeLogs: [
        {
          logRecords: [
            {
              body: { stringValue: 'claude_code.api_request' },
              attributes: [
                { key: 'event.name', value: { stringValue: 'api_request' } },
                { key: 'session.id', value: { stringValue: 'guard-session' } },
              ],
            },
          ],
        },
      ],
    },
  ],
});

describe('OTLP/HTTP receiver: only the user’s agents may write', () => {
  it('refuses a foreign origin, a wrong host, no or a wrong token, another media type, a large body; counts each, indexes nothing, logs no token', async () => {
    assert.equal(otlpLogsToSpoolLines(JSON.parse(ONE_EVENT), new Date()).length, 1);
    const spoolDir = path.join(await tempDir('ah-otel-guard-'), 'spool');
    const log = recordingLogger();
    const rx = await startOtlpReceiver({ spoolDir, preferredPort: 0, token: TOKEN }, log);
    const p = rx.port;
    const agent = agentHeaders(p, TOKEN);
    const without = (name: string) => agent.filter(([k]) => k !== name);
    const replace = (name: string, value: string): [string, string][] =>
      agent.map(([k, v]) => [k, k === name ? value : v]);
    const wrongToken = newToken();
    const cases: { name: string; headers: [string, string][]; status: number; reason: string; body?: string }[] = [
      {
        // What a page sends with fetch(…, {method: 'POST', mode: 'no-cors', body}): no preflight.
        name: 'browser-shaped text/plain POST, no token',
        headers: [
          ['Host', `127.0.0.1:${p}`],
          ['Origin', 'https://evil.example'],
          ['Content-Type', 'text/plain; x=json'],
          ['Sec-Fetch-Mode', 'no-cors'],
        ],
        status: 403,
        reason: 'origin',
      },
      {
        name: 'DNS rebinding: the page’s own host name resolving to 127.0.0.1',
        headers: [
          ['Host', `rebind.evil.example:${p}`],
          ['Origin', `http://rebind.evil.example:${p}`],
          ['Content-Type', 'text/plain'],
        ],
        status: 403,
        reason: 'host',
      },
      {
        name: 'a rebinding host even with the token',
        headers: replace('Host', `evil.example:${p}`),
        status: 403,
        reason: 'host',
      },
      { name: 'host without the port', headers: replace('Host', '127.0.0.1'), status: 403, reason: 'host' },
      { name: 'host on another port', headers: replace('Host', `127.0.0.1:${p + 1}`), status: 403, reason: 'host' },
      { name: 'IPv6 loopback (not listened on)', headers: replace('Host', `[::1]:${p}`), status: 403, reason: 'host' },
      { name: 'no Host', headers: without('Host'), status: 403, reason: 'host' },
      {
        name: 'an Origin, even with the token',
        headers: [...agent, ['Origin', 'null']],
        status: 403,
        reason: 'origin',
      },
      { name: 'no token', headers: without('Authorization'), status: 401, reason: 'token' },
      {
        name: 'a wrong token',
        headers: replace('Authorization', `Bearer ${wrongToken}`),
        status: 401,
        reason: 'token',
      },
      { name: 'the token as Basic', headers: replace('Authorization', `Basic ${TOKEN}`), status: 401, reason: 'token' },
      {
        name: 'the token with a suffix',
        headers: replace('Authorization', `Bearer ${TOKEN}x`),
        status: 401,
        reason: 'token',
      },
      {
        name: 'text/plain; x=json with the token',
        headers: replace('Content-Type', 'text/plain; x=json'),
        status: 415,
        reason: 'media_type',
      },
      {
        name: 'application/json with another parameter',
        headers: replace('Content-Type', 'application/json; x=y'),
        status: 415,
        reason: 'media_type',
      },
      {
        name: 'application/json-seq',
        headers: replace('Content-Type', 'application/json-seq'),
        status: 415,
        reason: 'media_type',
      },
      { name: 'no Content-Type', headers: without('Content-Type'), status: 415, reason: 'media_type' },
      {
        name: 'a body over the limit',
        headers: agent,
        status: 413,
        reason: 'too_large',
        body: `{"resourceLogs":[],"pad":"${'x'.repeat(16 * 1024 * 1024)}"}`,
      },
    ];
    try {
      for (const c of cases) {
        const res = await rawPost(p, '/v1/logs', c.headers, c.body ?? ONE_EVENT);
        assert.equal(res.status, c.status, `${c.name}: ${res.body}`);
      }
      const expected: Record<string, number> = {};
      for (const c of cases) expected[c.reason] = (expected[c.reason] ?? 0) + 1;
      for (const [reason, n] of Object.entries(rx.stats.refused)) assert.equal(n, expected[reason] ?? 0, reason);
      assert.equal(rx.stats.logs, 0);
      assert.equal(rx.stats.events, 0);
      await assert.rejects(fsp.stat(path.join(spoolDir, OTEL_SPOOL_FILE)), /ENOENT/, 'nothing reached the spool');
      const logged = log.warnings.join('\n');
      assert.match(logged, /refused a request \(token\)/);
      assert.ok(!logged.includes(TOKEN) && !logged.includes(wrongToken), 'no token in the log');
      // Diagnostics shows the counts per reason, and no token either.
      const diag = formatDiagnostics({
        ...EMPTY_DIAGNOSTICS,
        telemetry_receiver: { port: p, ...rx.stats },
      });
      assert.match(
        diag,
        new RegExp(
          `Telemetry: +receiver on 127\\.0\\.0\\.1:${p}: 0 log requests .*refused: host 6, origin 2, token 4, media_type 4, too_large 1`,
        ),
      );
      assert.ok(!diag.includes(TOKEN) && !diag.includes(wrongToken));

      // The accepted shapes: localhost, a UTF-8 charset in any case, the scheme in any case.
      for (const headers of [
        replace('Host', `localhost:${p}`),
        replace('Content-Type', 'Application/JSON; Charset="UTF-8"'),
        replace('Authorization', `bearer ${TOKEN}`),
      ]) {
        const res = await rawPost(p, '/v1/logs', headers, ONE_EVENT);
        assert.equal(res.status, 200, JSON.stringify(headers));
      }
      assert.equal(rx.stats.events, 3);
      const spooled = (await fsp.readFile(path.join(spoolDir, OTEL_SPOOL_FILE), 'utf8')).split('\n').filter(Boolean);
      assert.equal(spooled.length, 3);
    } finally {
      await rx.close();
    }
  });

  it('the token is made once per install (32 random bytes, base64url, a 0600 file) and kept', async () => {
    const dir = await tempDir('ah-otel-token-');
    const file = tokenFileFor(path.join(dir, 'otlp-endpoint.json'));
    const [a, b] = await Promise.all([receiverToken(file), receiverToken(file)]);
    assert.equal(a, b, 'two starts at once agree');
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(a, 'base64url').length, 32);
    assert.equal(await receiverToken(file), a);
    assert.equal(await readToken(file), a);
    if (process.platform !== 'win32') assert.equal((await fsp.stat(file)).mode & 0o777, 0o600);
    assert.notEqual(newToken(), newToken());
  });

  it('media types and tokens are compared as the receiver means them', () => {
    for (const ok of ['application/json', 'application/json;charset=utf-8', 'APPLICATION/JSON ; charset=UTF8'])
      assert.ok(isJsonMediaType(ok), ok);
    for (const bad of [
      '',
      'text/plain; x=json',
      'application/jsonx',
      'application/json; charset=latin1',
      'application/json;',
    ])
      assert.ok(!isJsonMediaType(bad), bad);
    assert.ok(bearerMatches(`Bearer ${TOKEN}`, TOKEN));
    assert.ok(!bearerMatches(`Bearer ${TOKEN} extra`, TOKEN));
    assert.ok(!bearerMatches(undefined, TOKEN));
    assert.ok(!bearerMatches('Bearer', TOKEN));
  });
});
