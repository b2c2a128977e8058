/**
 * What the view classes own and must let go of (listeners, items, emitters, timers), kept by one
 * base class instead of a hand-kept array in each (the `Disposable._register` of
 * vscode-pull-request-github). No `vscode` import: `IDisposable` is the shape of `vscode.Disposable`,
 * so the base is unit-tested in plain Node and anything VS Code returns can be registered.
 */
export interface IDisposable {
  dispose(): unknown;
}

export abstract class Disposable implements IDisposable {
  private readonly owned: IDisposable[] = [];
  private disposed = false;

  /** Disposed with this object; disposed at once when this object already is. */
  protected _register<T extends IDisposable>(owned: T): T {
    if (this.disposed) owned.dispose();
    else this.owned.push(owned);
    return owned;
  }

  protected get isDisposed(): boolean {
    return this.disposed;
  }

  /** Once; in the order registered. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const owned of this.owned.splice(0)) owned.dispose();
  }
}

/** A repeating timer as a disposable: views that move with the clock ("2h ago") tick with it. */
export function interval(run: () => void, ms: number): IDisposable {
  const timer = setInterval(run, ms);
  return { dispose: () => clearInterval(timer) };
}

/**
 * Runs `run` once after `delay` however often it is asked to in between: a burst of change
 * notices becomes one reload. The first request's delay holds (later ones do not postpone it), so a
 * steady stream of changes still shows.
 */
export class CoalescedRun implements IDisposable {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly run: () => void,
    private readonly defaultDelayMs: number,
  ) {}

  schedule(delayMs = this.defaultDelayMs): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.run();
    }, delayMs);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
