import type { MetaEvent } from '../model/events';
import { TITLE_MAX } from '../model/reducer';
import { oneLine } from '../text';

/**
 * Copilot CLI's `workspace.yaml` beside a session's events: the working folder, repository, branch
 * and summary it records, read with a reader of the flat YAML it writes (no dependency for it).
 */

/** The session facts of a workspace.yaml (id, cwd, git_root, repository, host_type, branch, summary, name...). */
export function workspaceMeta(ws: Record<string, string>): MetaEvent | null {
  const meta: MetaEvent = { kind: 'meta', ts: null };
  let has = false;
  const set = <K extends keyof MetaEvent>(k: K, v: MetaEvent[K] | undefined) => {
    if (v === undefined) return;
    meta[k] = v;
    has = true;
  };
  set('cwd', ws.cwd || undefined);
  set('git_branch', ws.branch || undefined);
  set('github_repo', githubRepo(ws.repository, ws.host_type));
  const name = titleText(ws.name);
  if (name && ws.user_named === 'true') set('custom_title', name);
  else set('ai_title', name ?? titleText(ws.summary));
  return has ? meta : null;
}

/**
 * A small YAML subset: top-level `key: value` lines with plain, 'single' or "double" quoted scalars
 * (possibly continued on more indented lines) and `|` / `>` block scalars. Nested mappings and lists
 * are skipped; `~`/`null` values are left out. Enough for workspace.yaml, no dependency.
 */
export function parseFlatYaml(text: string): Record<string, string> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: Record<string, string> = {};
  let i = 0;
  const indented = (l: string) => l.length > 0 && (l[0] === ' ' || l[0] === '\t');
  while (i < lines.length) {
    const line = lines[i];
    const m = /^([A-Za-z_][\w.-]*)\s*:(?:[ \t]+(.*))?$/.exec(line);
    i++;
    if (!m) continue;
    const key = m[1];
    let rest = (m[2] ?? '').trim();
    // The lines that belong to this key: more indented ones (or blank ones between them).
    const body: string[] = [];
    while (
      i < lines.length &&
      (indented(lines[i]) || (lines[i].trim() === '' && i + 1 < lines.length && indented(lines[i + 1])))
    ) {
      body.push(lines[i]);
      i++;
    }
    if (rest.startsWith('#')) rest = '';
    let value: string | null;
    if (/^[|>][+-]?\d*(\s+#.*)?$/.test(rest)) {
      value = blockScalar(rest[0] as '|' | '>', body);
    } else if (rest.startsWith('"')) {
      value = doubleQuoted([rest, ...body].join('\n'));
    } else if (rest.startsWith("'")) {
      value = singleQuoted([rest, ...body].join('\n'));
    } else if (rest === '') {
      // A nested mapping or list, or a plain scalar on the next lines.
      const first = body.find((l) => l.trim() !== '')?.trim() ?? '';
      value =
        !first || first.startsWith('- ') || first === '-' || /^[^'"][^:]*:(\s|$)/.test(first) ? null : plain(body);
    } else {
      value = plain([rest, ...body]);
    }
    if (value === null || value === '~' || value === 'null') continue;
    out[key] = value;
  }
  return out;
}

function plain(lines: string[]): string {
  return lines
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '')
    .join(' ');
}

function blockScalar(style: '|' | '>', body: string[]): string {
  const nonBlank = body.filter((l) => l.trim() !== '');
  const indent = nonBlank.length ? Math.min(...nonBlank.map((l) => l.length - l.trimStart().length)) : 0;
  const ls = body.map((l) => l.slice(indent));
  if (style === '|') return ls.join('\n').replace(/\n+$/, '');
  let s = '';
  for (const l of ls) {
    if (l === '') s += '\n';
    else s += s === '' || s.endsWith('\n') ? l : ` ${l}`;
  }
  return s.replace(/\n+$/, '');
}

/** Folds the line breaks of a multi-line flow scalar: one break → space, n+1 breaks → n newlines. */
function foldFlow(s: string): string {
  return s.replace(/[ \t]*\n([ \t]*\n)*[ \t]*/g, (br) => {
    const n = (br.match(/\n/g) ?? []).length;
    return n === 1 ? ' ' : '\n'.repeat(n - 1);
  });
}

function singleQuoted(s: string): string | null {
  let outStr = '';
  for (let i = 1; i < s.length; i++) {
    if (s[i] === "'") {
      if (s[i + 1] === "'") {
        outStr += "'";
        i++;
        continue;
      }
      return foldFlow(outStr);
    }
    outStr += s[i];
  }
  return null; // unterminated
}

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '"': '"',
  '\\': '\\',
  '/': '/',
  ' ': ' ',
  e: '\x1b',
  b: '\b',
  f: '\f',
  a: '\x07',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
};

function doubleQuoted(s: string): string | null {
  // Fold raw line breaks first (an escaped break `\` + newline joins without a space).
  const src = s.replace(/\\\n[ \t]*/g, '');
  let outStr = '';
  for (let i = 1; i < src.length; i++) {
    const c = src[i];
    if (c === '"') return outStr.replace(/\uE000/g, '\n');
    if (c === '\\') {
      const e = src[i + 1];
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hex) {
        const code = parseInt(src.slice(i + 2, i + 2 + hex), 16);
        if (Number.isFinite(code)) outStr += String.fromCodePoint(code);
        i += 1 + hex;
      } else {
        // Escaped newlines are kept apart from the folding below.
        outStr += e === 'n' ? '\uE000' : (ESCAPES[e] ?? e ?? '');
        i++;
      }
      continue;
    }
    if (c === '\n' || c === ' ' || c === '\t') {
      // Collect a run of whitespace containing line breaks and fold it.
      let j = i;
      while (j < src.length && (src[j] === ' ' || src[j] === '\t' || src[j] === '\n')) j++;
      const run = src.slice(i, j);
      outStr += run.includes('\n') ? foldFlow(run) : run;
      i = j - 1;
      continue;
    }
    outStr += c;
  }
  return null; // unterminated
}

/** "owner/name" of a GitHub repository; Azure DevOps ("org/project/repo", hostType ado) is not one. */
export function githubRepo(repository: unknown, hostType: unknown): string | undefined {
  if (typeof repository !== 'string') return undefined;
  if (hostType !== undefined && hostType !== null && hostType !== 'github') return undefined;
  return /^[\w.-]+\/[\w.-]+$/.test(repository) ? repository : undefined;
}

export function titleText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = oneLine(v, TITLE_MAX);
  return t || undefined;
}
