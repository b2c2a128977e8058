/**
 * The OTLP/HTTP receiver over real HTTP on 127.0.0.1, fed every request body Claude Code exported in
 * test/fixtures/claude/<version>/otel/ (from shared/fixtures/real/claude-otel), then indexed next to the same version's transcripts.
 */
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Indexer } from '../../src/core/ingest/indexer';
import { OTEL_SPOOL_FILE, startOtlpReceiver, telemetryEnv } from '../../src/core/live/otlp';
import { ADAPTERS } from '../../src/core/sources/registry';
import { listSessions } from '../../src/core/store/queries';
import { Store } from '../../src/core/store/store';
import { CLAUDE_FIXTURES, fixtureHome, mustGet, silentLogger, tempDir } from './helpers';

/** Real OTLP/HTTP JSON bodies per Claude Code version (copied from shared/fixtures/real/claude-otel). */
const otelFixtures = (version: string) => path.join(CLAUDE_FIXTURES, version, 'otel');

function post(
  port: number,
  urlPath: string,
  body: string,
  type = 'application/json',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: urlPath, method: 'POST', headers: { 'content-type': type } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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
      const rx = await startOtlpReceiver(spoolDir, 0, silentLogger);
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
    const rx = await startOtlpReceiver(path.join(await tempDir('ah-otel-'), 'spool'), 0, silentLogger);
    try {
      const pb = await post(rx.port, '/v1/logs', 'x', 'application/x-protobuf');
      assert.equal(pb.status, 415);
      assert.match(pb.body, /OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);
      assert.equal((await post(rx.port, '/v1/logs', '{not json')).status, 400);
      assert.equal((await post(rx.port, '/other', '{}')).status, 404);
      assert.deepEqual(telemetryEnv(rx.port).OTEL_EXPORTER_OTLP_ENDPOINT, `http://127.0.0.1:${rx.port}`);
    } finally {
      await rx.close();
    }
  });
});
