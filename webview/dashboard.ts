/**
 * The dashboard's script, in the webview. It gets its data from the extension by postMessage, draws
 * it with Chart.js (bundled, no network), and builds every text node with textContent: transcript
 * text (session titles) is never parsed as HTML. Colors come from VS Code's theme variables.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Legend,
  LinearScale,
  Tooltip,
} from 'chart.js';

import type { CostBar, DailyRow, DashboardData as Data } from '../src/core/model/dashboardData';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface Filters {
  days: number;
  framework: string;
  gitDir: string;
  metric: 'cost' | 'tokens';
  machine: string;
}
type FromHost = {
  type: 'data';
  data: Data;
  filters: Filters;
  agentNames: Record<string, string>;
  currentRepo: string | null;
};

declare function acquireVsCodeApi(): { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const charts = new Map<string, Chart>();
let last: FromHost | null = null;

function css(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function palette(): string[] {
  return [
    css('--vscode-charts-blue', '#3794ff'),
    css('--vscode-charts-orange', '#d18616'),
    css('--vscode-charts-green', '#89d185'),
    css('--vscode-charts-purple', '#b180d7'),
    css('--vscode-charts-red', '#f14c4c'),
    css('--vscode-charts-yellow', '#cca700'),
    css('--vscode-terminal-ansiCyan', '#11a8cd'),
    css('--vscode-terminal-ansiMagenta', '#bc3fbc'),
  ];
}

const usd = (n: number) => (n === 0 ? '$0.00' : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`);
function tokens(n: number): string {
  if (n < 1000) return `${n}`;
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e4 ? 1 : 0).replace(/\.0$/, '')}K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1).replace(/\.0$/, '')}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}
const rowTokens = (r: DailyRow) => r.tokens_input + r.tokens_output + r.tokens_cache_read + r.tokens_cache_write;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** A data table under each chart: the same numbers, for screen readers and for copying. */
function dataTable(container: HTMLElement, head: string[], rows: (string | number)[][]): void {
  const details = el('details');
  details.append(el('summary', 'Data'));
  const table = el('table');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', h));
  table.append(tr);
  for (const r of rows) {
    const row = el('tr');
    for (const c of r) row.append(el('td', String(c)));
    table.append(row);
  }
  details.append(table);
  container.append(details);
}

function chartBox(
  parentId: string,
  id: string,
  title: string,
  height = 260,
): { canvas: HTMLCanvasElement; box: HTMLElement } {
  const box = el('section', undefined, 'card');
  box.id = id;
  box.append(el('h2', title));
  const wrap = el('div', undefined, 'chart');
  wrap.style.height = `${height}px`;
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', title);
  wrap.append(canvas);
  box.append(wrap);
  $(parentId).append(box);
  return { canvas, box };
}

function baseOptions(stacked: boolean, horizontal = false, format: (n: number) => string = String) {
  const fg = css('--vscode-foreground', '#ccc');
  const grid = css('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const valueAxis = {
    stacked,
    ticks: { color: fg, callback: (v: string | number) => format(Number(v)) },
    grid: { color: grid },
    beginAtZero: true,
  };
  const catAxis = { stacked, ticks: { color: fg }, grid: { display: false } };
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false as const,
    indexAxis: horizontal ? ('y' as const) : ('x' as const),
    plugins: {
      legend: { labels: { color: fg, boxWidth: 12 } },
      tooltip: {
        callbacks: {
          label: (c: { dataset: { label?: string }; parsed: { x: number | null; y: number | null } }) =>
            `${c.dataset.label ?? ''}: ${format(Number(horizontal ? c.parsed.x : c.parsed.y))}`,
        },
      },
    },
    scales: horizontal ? { x: valueAxis, y: catAxis } : { x: catAxis, y: valueAxis },
  };
}

function stackedPerDay(
  parentId: string,
  id: string,
  title: string,
  d: Data,
  by: 'framework' | 'model',
  metric: Filters['metric'],
  names: Record<string, string>,
): void {
  const value = (r: DailyRow) => (metric === 'cost' ? r.cost_usd : rowTokens(r));
  const keys = [...new Set(d.daily.map((r) => r[by]))].sort();
  const colors = palette();
  const datasets: ChartDataset<'bar'>[] = keys.map((k, i) => ({
    label: by === 'framework' ? (names[k] ?? k) : k,
    data: d.dates.map((date) =>
      d.daily.filter((r) => r.date === date && r[by] === k).reduce((a, r) => a + value(r), 0),
    ),
    backgroundColor: colors[i % colors.length],
    stack: 'one',
  }));
  const { canvas, box } = chartBox(parentId, id, title);
  charts.set(
    id,
    new Chart(canvas, {
      type: 'bar',
      data: { labels: d.dates.map((x) => x.slice(5)), datasets },
      options: baseOptions(true, false, metric === 'cost' ? usd : tokens),
    }),
  );
  const rows = d.dates
    .map((date) => [date, ...datasets.map((s) => (s.data as number[])[d.dates.indexOf(date)]!)])
    .filter((r) => r.slice(1).some((v) => Number(v) > 0))
    .map((r) => [r[0]!, ...r.slice(1).map((v) => (metric === 'cost' ? usd(Number(v)) : String(v)))]);
  dataTable(box, ['date', ...datasets.map((s) => s.label ?? '')], rows);
}

function bars(parentId: string, id: string, title: string, items: CostBar[], empty: string): void {
  if (!items.length) {
    const box = el('section', undefined, 'card');
    box.id = id;
    box.append(el('h2', title), el('p', empty, 'muted'));
    $(parentId).append(box);
    return;
  }
  const { canvas, box } = chartBox(parentId, id, title, Math.max(140, 34 * items.length + 40));
  charts.set(
    id,
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: items.map((b) => shorten(b.key)),
        datasets: [{ label: 'cost', data: items.map((b) => b.cost_usd), backgroundColor: palette()[0] }],
      },
      options: {
        ...baseOptions(false, true, usd),
        plugins: { ...baseOptions(false, true, usd).plugins, legend: { display: false } },
      },
    }),
  );
  dataTable(
    box,
    ['', 'cost', 'tokens', 'requests'],
    items.map((b) => [b.key, usd(b.cost_usd), String(b.tokens), String(b.requests)]),
  );
}

/**
 * Sync: each machine's series per day (every agent and repository), stacked; the Machine filter
 * keeps one machine. The other charts are this machine's own index.
 */
function perMachine(d: Data, f: Filters): void {
  const shown = (d.machines ?? []).filter((m) => !f.machine || m.machine_id === f.machine);
  const colors = palette();
  const label = (m: { machine_name: string; this_machine: boolean }) =>
    m.this_machine ? `${m.machine_name} (this machine)` : m.machine_name;
  const datasets: ChartDataset<'bar'>[] = shown.map((m, i) => ({
    label: label(m),
    data: f.metric === 'cost' ? m.cost_usd : m.tokens,
    backgroundColor: colors[i % colors.length],
    stack: 'one',
  }));
  const what = f.metric === 'cost' ? 'Cost' : 'Tokens';
  const { canvas, box } = chartBox('daily', 'chart-machine', `${what} per day by machine (every agent and repository)`);
  charts.set(
    'chart-machine',
    new Chart(canvas, {
      type: 'bar',
      data: { labels: d.dates.map((x) => x.slice(5)), datasets },
      options: baseOptions(true, false, f.metric === 'cost' ? usd : tokens),
    }),
  );
  const fmt = (v: number) => (f.metric === 'cost' ? usd(v) : String(v));
  dataTable(
    box,
    ['date', ...shown.map(label)],
    d.dates
      .map((date, i) => [date, ...shown.map((m) => (f.metric === 'cost' ? m.cost_usd[i]! : m.tokens[i]!))])
      .filter((r) => r.slice(1).some((v) => Number(v) > 0))
      .map((r) => [r[0]!, ...r.slice(1).map((v) => fmt(Number(v)))]),
  );
}

function shorten(s: string): string {
  const tail = s.split('/').filter(Boolean).slice(-2).join('/');
  const label = s.startsWith('/') ? tail : s;
  return label.length > 40 ? `${label.slice(0, 39)}…` : label;
}

function tile(label: string, value: string, id: string): HTMLElement {
  const t = el('div', undefined, 'tile');
  t.id = id;
  t.append(el('div', value, 'value'), el('div', label, 'label'));
  return t;
}

function render(m: FromHost): void {
  last = m;
  for (const c of charts.values()) c.destroy();
  charts.clear();
  const { data: d, filters: f, agentNames: names } = m;
  syncFilters(m);
  const tiles = $('tiles');
  tiles.replaceChildren(
    tile(
      `cost, ${f.days ? `last ${f.days} days` : 'all time'}${d.totals.unpriced_requests ? ` (+${d.totals.unpriced_requests} unpriced requests)` : ''}`,
      usd(d.totals.cost_usd),
      'tile-cost',
    ),
    tile(
      'tokens',
      tokens(d.totals.tokens_input + d.totals.tokens_output + d.totals.tokens_cache_read + d.totals.tokens_cache_write),
      'tile-tokens',
    ),
    tile('requests', String(d.totals.requests), 'tile-requests'),
    tile(
      'cache-read share of input tokens',
      d.cache_read_share === null ? '—' : `${(d.cache_read_share * 100).toFixed(1)}%`,
      'tile-cache',
    ),
  );
  $('daily').replaceChildren();
  $('splits').replaceChildren();
  const what = f.metric === 'cost' ? 'Cost' : 'Tokens';
  stackedPerDay('daily', 'chart-agent', `${what} per day by agent`, d, 'framework', f.metric, names);
  stackedPerDay('daily', 'chart-model', `${what} per day by model`, d, 'model', f.metric, names);
  if (d.machines) perMachine(d, f);
  {
    const { canvas, box } = chartBox('daily', 'chart-sessions', 'Sessions per day', 200);
    const per = new Map(d.sessions_per_day.map((x) => [x.date, x.sessions]));
    charts.set(
      'chart-sessions',
      new Chart(canvas, {
        type: 'bar',
        data: {
          labels: d.dates.map((x) => x.slice(5)),
          datasets: [{ label: 'sessions', data: d.dates.map((x) => per.get(x) ?? 0), backgroundColor: palette()[2] }],
        },
        options: { ...baseOptions(false), plugins: { ...baseOptions(false).plugins, legend: { display: false } } },
      }),
    );
    dataTable(
      box,
      ['date', 'sessions'],
      d.sessions_per_day.map((x) => [x.date, x.sessions]),
    );
  }
  const repo = m.currentRepo ?? 'the workspace repository';
  bars(
    'splits',
    'chart-branch',
    `Cost per branch in ${repo}`,
    d.by_branch,
    'No requests in this repository in the range (or the workspace is not in a repository).',
  );
  bars(
    'splits',
    'chart-pr',
    `Cost per pull request in ${repo}`,
    d.by_pr,
    'No session with a known pull request in this repository in the range.',
  );
  bars('splits', 'chart-project', 'Cost per project', d.by_project, 'No requests in the range.');

  const table = $('costliest');
  table.replaceChildren();
  const head = el('tr');
  for (const h of ['session', 'agent', 'branch', 'tokens', 'cost']) head.append(el('th', h));
  table.append(head);
  for (const s of d.costliest) {
    const tr = el('tr');
    const cell = el('td');
    const link = el('a', s.title ?? s.session_id);
    link.href = '#';
    link.title = `Reveal ${s.session_id} in the Sessions view`;
    link.dataset.session = s.session_id;
    link.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'reveal', sessionId: s.session_id });
    });
    cell.append(link);
    tr.append(
      cell,
      el('td', names[s.framework] ?? s.framework),
      el('td', s.git_branch ?? ''),
      el('td', tokens(s.tokens), 'num'),
      el('td', usd(s.cost_usd), 'num'),
    );
    table.append(tr);
  }
  if (!d.costliest.length) {
    const tr = el('tr');
    const td = el('td', 'No sessions in the range.', 'muted');
    td.colSpan = 5;
    tr.append(td);
    table.append(tr);
  }
  $('updated').textContent = `Local days in ${d.time_zone}. Updated ${new Date().toLocaleTimeString()}.`;
  document.body.dataset.ready = 'true';
}

function syncFilters(m: FromHost): void {
  const agent = $<HTMLSelectElement>('f-agent');
  const repo = $<HTMLSelectElement>('f-repo');
  agent.replaceChildren(new Option('All agents', ''), ...m.data.agents.map((a) => new Option(m.agentNames[a] ?? a, a)));
  repo.replaceChildren(new Option('All repositories', ''), ...m.data.repos.map((r) => new Option(r.label, r.git_dir)));
  agent.value = m.filters.framework;
  repo.value = m.filters.gitDir;
  const machine = $<HTMLSelectElement>('f-machine');
  const machines = m.data.machines ?? [];
  $('f-machine-label').hidden = machines.length === 0;
  machine.replaceChildren(
    new Option('All machines', ''),
    ...machines.map(
      (x) => new Option(x.this_machine ? `${x.machine_name} (this machine)` : x.machine_name, x.machine_id),
    ),
  );
  machine.value = machines.some((x) => x.machine_id === m.filters.machine) ? m.filters.machine : '';
  $<HTMLSelectElement>('f-days').value = String(m.filters.days);
  $<HTMLSelectElement>('f-metric').value = m.filters.metric;
}

function sendFilters(): void {
  const filters: Filters = {
    days: Number($<HTMLSelectElement>('f-days').value),
    framework: $<HTMLSelectElement>('f-agent').value,
    gitDir: $<HTMLSelectElement>('f-repo').value,
    metric: $<HTMLSelectElement>('f-metric').value as Filters['metric'],
    machine: $<HTMLSelectElement>('f-machine').value,
  };
  vscode.setState(filters);
  vscode.postMessage({ type: 'filters', filters });
}

for (const id of ['f-days', 'f-agent', 'f-repo', 'f-metric', 'f-machine'])
  $(id).addEventListener('change', sendFilters);
window.addEventListener('message', (e: MessageEvent<FromHost>) => {
  if (e.data?.type === 'data') render(e.data);
});
// A theme change re-reads the colors.
new MutationObserver(() => last && render(last)).observe(document.body, {
  attributes: true,
  attributeFilter: ['class'],
});
vscode.postMessage({ type: 'ready', filters: vscode.getState() ?? null });
