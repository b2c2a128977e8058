import { HOOK_SCRIPT_NAME } from './install';

/**
 * Codex's `notify` in `config.toml`: one program run after every turn with the event JSON as its last
 * argument. There is a single `notify`, so installing ours must not drop the user's: ours carries
 * the user's original assignment (base64 of its exact text) after `--chain`, the hook script runs
 * that program too, and removal puts the original text back byte for byte. A minimal surgical edit
 * of the one top-level `notify = [...]` assignment; the rest of the file is never touched.
 */

export const CHAIN_FLAG = '--chain';

/** The top-level `notify = [...]` assignment: its span (line start to the closing bracket). */
function findNotify(text: string): { start: number; end: number; body: string } | null {
  // Top-level keys come before the first table header.
  const firstTable = /^[ \t]*\[/m.exec(text);
  const topEnd = firstTable ? firstTable.index : text.length;
  const m = /^[ \t]*notify[ \t]*=[ \t]*\[/m.exec(text.slice(0, topEnd));
  if (!m) return null;
  let i = m.index + m[0].length;
  // Scan to the matching ']' past strings and comments.
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    } else if (c === "'") {
      i = text.indexOf("'", i + 1);
      if (i < 0) return null;
    } else if (c === '#') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (c === ']') {
      return { start: m.index, end: i + 1, body: text.slice(m.index, i + 1) };
    }
    i++;
  }
  return null;
}

/** The strings of a TOML array of strings (basic and literal strings). */
export function tomlStrings(arrayText: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|#[^\n]*/g;
  for (let m = re.exec(arrayText); m; m = re.exec(arrayText)) {
    if (m[1] !== undefined) out.push(JSON.parse(`"${m[1]}"`) as string);
    else if (m[2] !== undefined) out.push(m[2]);
  }
  return out;
}

function tomlArray(args: string[]): string {
  return `[${args.map((a) => JSON.stringify(a)).join(', ')}]`;
}

export function hasCodexNotify(text: string): boolean {
  return findNotify(text)?.body.includes(HOOK_SCRIPT_NAME) ?? false;
}

/** `ourArgv`: the hook command as a list (node, script, spool dir, 'codex'). */
export function installCodexNotify(text: string, ourArgv: string[]): string {
  const found = findNotify(text);
  if (found?.body.includes(HOOK_SCRIPT_NAME)) return text;
  if (!found) return `notify = ${tomlArray(ourArgv)}\n${text}`;
  const chained = [...ourArgv, CHAIN_FLAG, Buffer.from(found.body, 'utf8').toString('base64')];
  return text.slice(0, found.start) + `notify = ${tomlArray(chained)}` + text.slice(found.end);
}

export function removeCodexNotify(text: string): string {
  const found = findNotify(text);
  if (!found?.body.includes(HOOK_SCRIPT_NAME)) return text;
  const args = tomlStrings(found.body.slice(found.body.indexOf('[')));
  const i = args.indexOf(CHAIN_FLAG);
  if (i >= 0 && args[i + 1])
    return text.slice(0, found.start) + Buffer.from(args[i + 1]!, 'base64').toString('utf8') + text.slice(found.end);
  // Ours alone, added as the first line by install: the line goes with its newline.
  return text.slice(0, found.start) + text.slice(text[found.end] === '\n' ? found.end + 1 : found.end);
}
