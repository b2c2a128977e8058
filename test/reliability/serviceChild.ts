/**
 * One "VS Code window" for the two-windows test: an IndexService (the same class the extension's
 * worker runs) in a process of its own, on the store file given as argv[2] and the HOME argv[3].
 * It reports its role and answers queries over IPC; the parent kills it with SIGKILL to play a
 * crashed window.
 */
import { IndexService } from '../../src/core/ingest/service';
import { DEFAULT_STATUS_SETTINGS } from '../../src/core/model/status';

const [storeFile, home] = process.argv.slice(2);
const send = (m: unknown) => process.send?.(m);
const svc = new IndexService(
  {
    storeFile,
    env: {},
    home,
    agents: { extraRoots: {}, disabled: [] },
    pricing: { overrides: {}, refresh: false },
    status: DEFAULT_STATUS_SETTINGS,
    rescanIntervalMs: 2_000,
  },
  (m) => {
    if (m.type === 'role' || m.type === 'ready' || m.type === 'changed') send({ type: 'event', event: m });
  },
  { info: () => undefined, warn: () => undefined, error: (m) => send({ type: 'error', message: m }) },
);

process.on('message', (m: { type: string; id: number; name: 'sessions' | 'diagnostics' | 'refresh' }) => {
  if (m.type === 'query') {
    svc.query(m.name, {}).then(
      (result) => send({ type: 'result', id: m.id, result }),
      (err: Error) => send({ type: 'result', id: m.id, error: err.message }),
    );
  } else if (m.type === 'stop') {
    void svc.stop().then(() => process.exit(0));
  }
});

svc.start().then(
  () => send({ type: 'started', role: svc.state().role }),
  (err: Error) => send({ type: 'error', message: err.stack ?? err.message }),
);
