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

/**
 * Characters that must never reach a label from transcript text: C0/C1 controls (ANSI escape
 * sequences start with ESC), DEL, bidirectional overrides and isolates (they reorder what the user
 * reads: "Trojan Source"), zero-width joiners/marks, line/paragraph separators and the BOM.
 */
// eslint-disable-next-line no-control-regex
const ANSI_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
const UNSAFE_CHARS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/**
 * Transcript text made fit for a one-line label (tree item, quick pick, terminal name, tooltip
 * heading): ANSI escape sequences removed whole, control, bidi and zero-width characters dropped,
 * whitespace collapsed, cut to `max` characters. Only a bounded prefix is looked at, so a 10 MB
 * prompt costs no more than a short one. Escaping for markdown is a separate step (escapeMd).
 */
export function displayText(text: string, max = 120): string {
  // Cleaned a chunk at a time until there is more than `max` visible text: a 10 MB prompt costs
  // one chunk, a prompt padded with megabytes of invisible characters one pass over them.
  const step = max * 8 + 64;
  let clean = '';
  for (let pos = 0; pos < text.length; pos += step) {
    clean += text
      .slice(pos, pos + step)
      .replace(ANSI_SEQUENCE, '')
      .replace(UNSAFE_CHARS, '');
    if (clean.replace(/\s+/g, ' ').trim().length > max) break;
  }
  return oneLine(clean, max);
}

/**
 * Escapes text for a (never trusted, never HTML) MarkdownString: every markdown punctuation mark,
 * so transcript text cannot become a link (`command:` or any other), an image, a heading or markup,
 * and newlines become spaces so it cannot start a block of its own.
 */
export function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&:$]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, ' ');
}

/** A session's label in every view: its title made safe (displayText), else its id. */
export function sessionLabel(s: { title: string | null; session_id: string }, max = 120): string {
  return (s.title ? displayText(s.title, max) : '') || displayText(s.session_id, max);
}

/**
 * "forked from …" for a fork's tooltip and details: the origin's title made safe (displayText) and
 * the start of its id, or the id alone when the origin is not indexed (its transcript never seen).
 */
export function forkedFromText(originId: string, originTitle: string | null, max = 80): string {
  return `forked from ${forkOriginLabel(originId, originTitle, max)}`;
}

/** A fork's origin as named after "forked from": `"<title>" (<id start>)`, or the id's start alone. */
export function forkOriginLabel(originId: string, originTitle: string | null, max = 80): string {
  const id = displayText(originId, 36).slice(0, 8);
  const title = originTitle ? displayText(originTitle, max) : '';
  return title ? `"${title}" (${id})` : id;
}
