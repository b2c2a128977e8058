import { periodFilter } from '../core/period';
import { type Block, usageBlocks } from '../core/pricing/blocks';
import { type PeriodRow, monthly, weekly } from '../core/pricing/periods';
import { daily } from '../core/pricing/report';
import { WEEK_DAYS, type Args } from './args';
import { indexedStore, json, periodOf, stdout, tableStyle, zoneOf } from './io';
import { type Column, renderTable, tokenCell, usdColumn } from './table';

/**
 * The usage reports over time: per day, week and month (pricing/report.ts `daily`, folded by
 * pricing/periods.ts), and the 5-hour billing blocks (pricing/blocks.ts).
 */

/** The report of days in the asked zone and period. */
async function days(args: Args) {
  const zone = zoneOf(args);
  const period = periodOf(args);
  const store = await indexedStore(args);
  return daily(store, zone, periodFilter(period, zone));
}

/** One table for days, weeks and months: tokens by kind, cost, agents, a totals row. */
function periodTable(args: Args, label: string, rows: (PeriodRow & { key: string })[]): string[] {
  const usd = usdColumn(rows.map((r) => r.cost_usd));
  const anyUnpriced = rows.some((r) => r.unpriced_requests > 0);
  const columns: Column[] = [
    { head: label },
    { head: 'INPUT', right: true },
    { head: 'OUTPUT', right: true },
    { head: 'CACHE READ', right: true },
    { head: 'CACHE WRITE', right: true },
    { head: 'TOKENS', right: true },
    { head: 'COST', right: true },
    ...(anyUnpriced ? [{ head: 'UNPRICED', right: true }] : []),
    { head: 'AGENTS', shrink: 0, min: 6 },
  ];
  const t = (n: number) => tokenCell(n, args.exact);
  const line = (key: string, r: Omit<PeriodRow, 'by_agent' | 'by_model'>, agents: string) => [
    key,
    t(r.input),
    t(r.output),
    t(r.cache_read),
    t(r.cache_write),
    t(r.input + r.output + r.cache_read + r.cache_write),
    usd(r.cost_usd),
    ...(anyUnpriced ? [r.unpriced_requests ? `${r.unpriced_requests}` : ''] : []),
    agents,
  ];
  const sum = { input: 0, output: 0, cache_read: 0, cache_write: 0, cost_usd: 0, requests: 0, unpriced_requests: 0 };
  for (const r of rows) for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += r[k];
  return renderTable(
    columns,
    rows.map((r) => line(r.key, r, r.by_agent.map((a) => a.agent).join(', '))),
    tableStyle(args),
    rows.length > 1 ? line('Total', sum, '') : undefined,
  );
}

export async function dailyCommand(args: Args): Promise<number> {
  const report = await days(args);
  if (args.json) await stdout.write(json(report));
  else {
    await stdout.write(`days in ${report.time_zone}; prices: ${report.price_data}\n`);
    await stdout.writeAll(
      periodTable(
        args,
        'DATE',
        report.days.map((d) => ({ key: d.date, ...d })),
      ),
    );
  }
  return 0;
}

export async function weeklyCommand(args: Args): Promise<number> {
  const report = weekly(await days(args), args.startOfWeek);
  if (args.json) await stdout.write(json(report));
  else {
    await stdout.write(
      `weeks from ${WEEK_DAYS[args.startOfWeek]} in ${report.time_zone}; prices: ${report.price_data}\n`,
    );
    await stdout.writeAll(
      periodTable(
        args,
        'WEEK',
        report.weeks.map((w) => ({ key: w.week, ...w })),
      ),
    );
  }
  return 0;
}

export async function monthlyCommand(args: Args): Promise<number> {
  const report = monthly(await days(args));
  if (args.json) await stdout.write(json(report));
  else {
    await stdout.write(`months in ${report.time_zone}; prices: ${report.price_data}\n`);
    await stdout.writeAll(
      periodTable(
        args,
        'MONTH',
        report.months.map((m) => ({ key: m.month, ...m })),
      ),
    );
  }
  return 0;
}

function localTime(iso: string, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

function minutes(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export async function blocksCommand(args: Args): Promise<number> {
  const zone = zoneOf(args);
  const period = periodOf(args);
  const now = Date.now();
  const store = await indexedStore(args);
  let blocks: Block[] = usageBlocks(store, now, periodFilter(period, zone));
  if (args.active) blocks = blocks.filter((b) => b.isActive);
  if (args.json) {
    await stdout.write(json({ blocks }));
    return 0;
  }
  if (!blocks.length) {
    await stdout.write(args.active ? 'no active block\n' : 'no usage\n');
    return 0;
  }
  const usd = usdColumn(blocks.map((b) => b.costUSD));
  const t = (n: number) => tokenCell(n, args.exact);
  const columns: Column[] = [
    { head: 'BLOCK START' },
    { head: 'STATUS' },
    { head: 'REQUESTS', right: true },
    { head: 'TOKENS', right: true },
    { head: 'COST', right: true },
    { head: 'MODELS', shrink: 0, min: 6 },
  ];
  const rows = blocks.map((b) => {
    const status = b.isGap
      ? `gap ${minutes(Date.parse(b.endTime) - Date.parse(b.startTime))}`
      : b.isActive
        ? `active, ${minutes(Date.parse(b.endTime) - now)} left`
        : minutes(Date.parse(b.actualEndTime ?? b.startTime) - Date.parse(b.startTime));
    return [
      localTime(b.startTime, zone),
      status,
      b.isGap ? '' : `${b.entries}`,
      b.isGap ? '' : t(b.totalTokens),
      b.isGap ? '' : usd(b.costUSD),
      b.models.join(', '),
    ];
  });
  const real = blocks.filter((b) => !b.isGap);
  const totals =
    real.length > 1
      ? [
          'Total',
          '',
          `${real.reduce((a, b) => a + b.entries, 0)}`,
          t(real.reduce((a, b) => a + b.totalTokens, 0)),
          usd(real.reduce((a, b) => a + b.costUSD, 0)),
          '',
        ]
      : undefined;
  await stdout.write(`5-hour blocks, times in ${zone}\n`);
  await stdout.writeAll(renderTable(columns, rows, tableStyle(args), totals));
  const active = blocks.find((b) => b.isActive);
  if (active?.burnRate) {
    const rate = active.burnRate;
    await stdout.write(
      `active block: ${Math.round(rate.tokensPerMinute).toLocaleString('en-US')} tokens/min, $${rate.costPerHour.toFixed(2)}/h` +
        (active.projection
          ? `; at this rate by ${localTime(active.endTime, zone).slice(11)}: ${t(active.projection.totalTokens)} tokens, $${active.projection.totalCost.toFixed(2)}\n`
          : '\n'),
    );
  }
  return 0;
}
