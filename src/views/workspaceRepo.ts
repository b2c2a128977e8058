import * as vscode from 'vscode';
import { unwatchFile, watchFile } from 'node:fs';
import { type RepoInfo, headFileOf, repoInfo } from '../core/git/repo';
import { getExtension } from './apis/extensions.apis';
import { onDidChangeWorkspaceFolders, workspaceFolders } from './apis/workspace.apis';
import { Disposable } from './disposable';
import type { Log } from './log';

/** The slice of the built-in git extension's API used here (vscode/extensions/git/src/api/git.d.ts). */
interface GitApi {
  repositories: {
    rootUri: vscode.Uri;
    state: { HEAD?: { name?: string; commit?: string }; onDidChange: vscode.Event<void> };
  }[];
  onDidOpenRepository: vscode.Event<unknown>;
}

/**
 * The workspace's repository and current branch. The built-in git extension is a soft dependency:
 * its events make a branch switch show at once; without it (disabled, git.enabled=false, no git on
 * PATH for it) polling the worktree's HEAD file does the same within a second or two.
 */
export class WorkspaceRepo extends Disposable {
  private readonly emitter = this._register(new vscode.EventEmitter<RepoInfo | null>());
  readonly onDidChange = this.emitter.event;
  private info: RepoInfo | null = null;
  private folder: string | null = null;
  private headFile: string | null = null;
  private refreshing: Promise<void> | null = null;
  private again = false;

  constructor(private readonly log: Log) {
    super();
    // The HEAD file polled (read() moves it along with the repository).
    this._register({ dispose: () => this.headFile && unwatchFile(this.headFile) });
  }

  get current(): RepoInfo | null {
    return this.info;
  }

  get workspaceFolder(): string | null {
    return this.folder;
  }

  async start(): Promise<void> {
    this._register(onDidChangeWorkspaceFolders(() => void this.refresh()));
    await this.refresh();
    void this.hookGitExtension();
  }

  private async hookGitExtension(): Promise<void> {
    try {
      const ext = getExtension<{ getAPI(v: 1): GitApi }>('vscode.git');
      if (!ext) return;
      const api = (ext.isActive ? ext.exports : await ext.activate()).getAPI(1);
      const hook = () => {
        for (const repo of api.repositories) {
          let last = `${repo.state.HEAD?.name}@${repo.state.HEAD?.commit}`;
          this._register(
            repo.state.onDidChange(() => {
              const now = `${repo.state.HEAD?.name}@${repo.state.HEAD?.commit}`;
              if (now !== last) {
                last = now;
                void this.refresh();
              }
            }),
          );
        }
      };
      hook();
      this._register(api.onDidOpenRepository(() => hook()));
    } catch (err) {
      this.log.info(`built-in git extension not available (${(err as Error).message}); watching HEAD files instead`);
    }
  }

  /** Re-reads repository and branch; concurrent calls coalesce into one more run. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        await this.read();
      } while (this.again);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const folder = workspaceFolders()?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? null;
    this.folder = folder;
    const info = folder ? await repoInfo(folder) : null;
    const head = info ? await headFileOf(info.toplevel) : null;
    if (head !== this.headFile) {
      if (this.headFile) unwatchFile(this.headFile);
      this.headFile = head;
      if (head) watchFile(head, { interval: 1000 }, () => void this.refresh());
    }
    const changed = JSON.stringify(info) !== JSON.stringify(this.info);
    this.info = info;
    if (changed) {
      this.log.info(
        info ? `workspace repository ${info.toplevel}, branch ${info.branch}` : 'workspace is not in a git repository',
      );
      this.emitter.fire(info);
    }
  }
}
