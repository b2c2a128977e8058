/** Small text helpers shared by adapters, the reducer and the views. Transcript text is data. */

const PR_URL = /https:\/\/github\.com\/([\w.-]+)\/([\w.-]+)\/pull\/(\d+)/g;
const ISSUE_URL = /https:\/\/github\.com\/([\w.-]+)\/([\w.-]+)\/issues\/(\d+)/g;

/** The last GitHub pull request and issue URLs in a text, if any. */
export function findGithubLinks(text: string): { pr?: string; issue?: string } {
  if (!text.includes('github.com/')) return {};
  const pr = lastMatch(PR_URL, text);
  const issue = lastMatch(ISSUE_URL, text);
  return { pr, issue };
}

function lastMatch(re: RegExp, text: string): string | undefined {
  let last: string | undefined;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) last = m[0];
  return last;
}

/** `https://github.com/o/r/pull/12` → { repo: 'o/r', number: 12 }. */
export function parseGithubLink(url: string): { repo: string; number: number } | null {
  const m = /^https:\/\/github\.com\/([\w.-]+)\/([\w.-]+)\/(?:pull|issues)\/(\d+)/.exec(url);
  return m ? { repo: `${m[1]}/${m[2]}`, number: Number(m[3]) } : null;
}

/** One line, whitespace collapsed, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** 1234 → "1.2K", 3_400_000 → "3.4M". */
export function formatTokens(n: number): string {
  if (n < 1000) return `${n}`;
  if (n < 1_000_000) return `${trimZero((n / 1000).toFixed(n < 10_000 ? 1 : 0))}K`;
  if (n < 1_000_000_000) return `${trimZero((n / 1_000_000).toFixed(1))}M`;
  return `${trimZero((n / 1_000_000_000).toFixed(2))}B`;
}

function trimZero(s: string): string {
  return s.replace(/\.0+$/, '');
}

/** Dollars with cents, or more digits below one cent so that small costs are not shown as $0.00. */
export function formatUsd(n: number): string {
  if (n === 0) return '$0.00';
  if (n < 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toFixed(2)}`;
}

/** "2h ago", "3d ago", "just now". */
export function formatAgo(iso: string | null, now: number): string {
  if (!iso) return '';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 24) return `${h}h ago`;
  const d = Math.round(h / 24);
  if (d < 60) return `${d}d ago`;
  return `${Math.round(d / 30)}mo ago`;
}
