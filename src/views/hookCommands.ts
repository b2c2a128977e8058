import * as vscode from 'vscode';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasCodexNotify, installCodexNotify, removeCodexNotify } from '../core/hooks/codexNotify';
import { type HookPaths, refreshHookScript } from '../core/hooks/hookScript';
import {
  type HookTarget,
  hookCommand,
  hookTargets,
  installHooks,
  isInstalled,
  removeHooks,
} from '../core/hooks/install';
import { executeCommand, registerCommand } from './apis/commands.apis';
import { showErrorMessage, showInformationMessage, showQuickPick, showWarningMessage } from './apis/window.apis';
import { getConfiguration, registerTextDocumentContentProvider } from './apis/workspace.apis';
import type { Log } from './log';

/**
 * Install / Remove Hooks: our hook entries in an agent's own settings file, only on command. The
 * change is shown as a diff first and written only after the user confirms; the old file is kept as
 * a timestamped backup next to it. The text edits themselves are in core (src/core/hooks/install.ts).
 */

const PREVIEW_SCHEME = 'agent-handler-preview';

/** `node` as found on PATH now (the agent may run hooks with a smaller PATH), else the setting. */
async function nodeExecutable(): Promise<string> {
  const configured = getConfiguration('agentHandler').get<string>('hooks.nodePath', '').trim();
  if (configured) return configured;
  const names = process.platform === 'win32' ? ['node.exe'] : ['node'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const n of names) {
      const p = path.join(dir, n);
      try {
        await fsp.access(p, fsp.constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return 'node';
}

function tilde(p: string): string {
  const home = os.homedir();
  return p.startsWith(home + path.sep) ? `~${p.slice(home.length)}` : p;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function backupName(file: string, now = new Date()): string {
  return `${file}.agent-handler-backup-${now.toISOString().replace(/[:.]/g, '-')}`;
}

export function registerHookCommands(ctx: vscode.ExtensionContext, paths: HookPaths, log: Log): void {
  const previews = new Map<string, string>();
  const changed = new vscode.EventEmitter<vscode.Uri>();
  ctx.subscriptions.push(
    changed,
    registerTextDocumentContentProvider(PREVIEW_SCHEME, {
      onDidChange: changed.event,
      provideTextDocumentContent: (uri) => previews.get(uri.toString()) ?? '',
    }),
  );

  const pickTarget = async (arg: unknown, verb: string): Promise<HookTarget | undefined> => {
    const targets = hookTargets(os.homedir(), process.env);
    if (typeof arg === 'string') return targets.find((t) => t.agent === arg);
    const items = await Promise.all(
      targets.map(async (t) => {
        const text = await readText(t.file).catch(() => null);
        let state = 'not installed';
        try {
          if (text !== null && (t.layout === 'toml-notify' ? hasCodexNotify(text) : isInstalled(text, t)))
            state = 'installed';
        } catch {
          state = 'file is not valid JSON';
        }
        return { label: t.displayName, description: `${tilde(t.file)} · ${state}`, target: t };
      }),
    );
    return (await showQuickPick(items, { placeHolder: `${verb} Agent Handler hooks for which agent?` }))?.target;
  };

  /** Shows the change as a diff and asks; writes (with a backup) only on yes. */
  const apply = async (
    t: HookTarget,
    before: string | null,
    after: string | null,
    verb: 'Install' | 'Remove',
  ): Promise<boolean> => {
    const base = `${PREVIEW_SCHEME}:/${t.agent}/${Date.now()}/${path.basename(t.file)}`;
    const left = vscode.Uri.parse(`${base}?before`);
    const right = vscode.Uri.parse(`${base}?after`);
    previews.set(left.toString(), before ?? '');
    previews.set(right.toString(), after ?? '');
    await executeCommand('vscode.diff', left, right, `${tilde(t.file)}: ${verb} Agent Handler hooks`, {
      preview: true,
    });
    const detail =
      `${verb === 'Install' ? 'Adds' : 'Removes'} the Agent Handler hook entries shown in the diff; everything else in the file stays as it is.` +
      (before !== null ? ` The current file is kept as ${path.basename(backupName(t.file))}.` : '');
    const ok = await showInformationMessage(
      `${verb} ${t.displayName} hooks in ${tilde(t.file)}?`,
      { modal: true, detail },
      verb,
    );
    previews.delete(left.toString());
    previews.delete(right.toString());
    if (ok !== verb) return false;
    // The file may have changed while the diff was open: never overwrite what was not shown.
    if ((await readText(t.file)) !== before) {
      void showWarningMessage(
        `Agent Handler: ${tilde(t.file)} changed meanwhile; nothing was written. Run the command again.`,
      );
      return false;
    }
    if (before !== null) await fsp.copyFile(t.file, backupName(t.file));
    if (after === null) await fsp.unlink(t.file);
    else {
      await fsp.mkdir(path.dirname(t.file), { recursive: true });
      await fsp.writeFile(t.file, after);
    }
    log.info(`${verb.toLowerCase()}ed ${t.displayName} hooks in ${t.file}`);
    return true;
  };

  ctx.subscriptions.push(
    registerCommand('agentHandler.installHooks', async (arg?: unknown) => {
      const t = await pickTarget(arg, 'Install');
      if (!t) return;
      try {
        await refreshHookScript(ctx.extensionPath, paths);
        const before = await readText(t.file);
        const node = await nodeExecutable();
        const after =
          t.layout === 'toml-notify'
            ? installCodexNotify(before ?? '', [node, paths.script, paths.spoolDir, t.agent])
            : installHooks(before ?? '', t, hookCommand(node, paths.script, paths.spoolDir, t.agent));
        if (after === before) {
          void showInformationMessage(`Agent Handler hooks are already installed for ${t.displayName}.`);
          return;
        }
        if (await apply(t, before, after, 'Install')) {
          const msg = `Agent Handler hooks installed for ${t.displayName}: sessions started from now on report their status exactly.`;
          void showInformationMessage(t.note ? `${msg} ${t.note}` : msg);
        }
      } catch (err) {
        void showErrorMessage(`Agent Handler: ${(err as Error).message}`);
      }
    }),
    registerCommand('agentHandler.removeHooks', async (arg?: unknown) => {
      const t = await pickTarget(arg, 'Remove');
      if (!t) return;
      try {
        const before = await readText(t.file);
        let after: string | null =
          before === null ? null : t.layout === 'toml-notify' ? removeCodexNotify(before) : removeHooks(before, t);
        if (after === before) {
          void showInformationMessage(`No Agent Handler hooks to remove for ${t.displayName} (${tilde(t.file)}).`);
          return;
        }
        // Copilot's hooks file is ours alone: with our hooks gone, the file goes.
        if (t.layout === 'flat' && after !== null && !/"hooks"/.test(after)) after = null;
        if (await apply(t, before, after, 'Remove'))
          void showInformationMessage(`Agent Handler hooks removed for ${t.displayName}.`);
      } catch (err) {
        void showErrorMessage(`Agent Handler: ${(err as Error).message}`);
      }
    }),
  );
}
