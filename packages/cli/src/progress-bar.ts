/** Options of a {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Where it writes: stderr, so stdout keeps only the result. */
  readonly write: (text: string) => void;
  /** Redraw one bar in place (a terminal), or write a line now and then (a log). */
  readonly tty: boolean;
  /** Words before the bar, e.g. `replay Order`. */
  readonly label?: string;
  /** What the rate counts, e.g. `events`. Defaults to `items`. */
  readonly unit?: string;
  /** Cells of the bar. Defaults to 30. */
  readonly width?: number;
  /** Least time between two lines when not a terminal. Defaults to 1 000 ms. */
  readonly lineIntervalMs?: number;
  /** The clock; tests pass their own. */
  readonly now?: () => number;
}

/** Where a job stands. */
export interface Progress {
  /** Done so far, 0 to 1. */
  readonly fraction: number;
  /** Items per second so far. */
  readonly rate: number;
  /** Estimated time left, in ms; `Infinity` when unknown yet. */
  readonly etaMs: number;
  /** A few words after the ETA, e.g. `lag 1200`. */
  readonly detail?: string;
}

/**
 * A progress bar with percentage, rate and ETA, in a terminal redrawn in place
 * (`\r`), elsewhere (CI logs, pipes) a line at most every `lineIntervalMs`,
 * since carriage returns there pile up into one unreadable line.
 */
export class ProgressBar {
  private readonly width: number;
  private readonly lineIntervalMs: number;
  private readonly now: () => number;
  private lastLineAt: number;
  private drawn = 0;
  private finished = false;

  constructor(private readonly options: ProgressBarOptions) {
    this.width = options.width ?? 30;
    this.lineIntervalMs = options.lineIntervalMs ?? 1000;
    this.now = options.now ?? Date.now;
    this.lastLineAt = this.now();
  }

  update(progress: Progress): void {
    if (this.finished) return;
    if (this.options.tty) return this.draw(progress);
    const now = this.now();
    if (now - this.lastLineAt < this.lineIntervalMs) return;
    this.lastLineAt = now;
    this.options.write(`${this.describe(progress)}\n`);
  }

  /** Draws the full bar and ends its line (in a terminal); the caller then writes its summary. */
  finish(rate: number): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.options.tty) return;
    this.draw({ fraction: 1, rate, etaMs: 0 });
    this.options.write('\n');
  }

  private draw(progress: Progress): void {
    const filled = Math.round(clamp(progress.fraction) * this.width);
    const text = `${this.options.label ? `${this.options.label} ` : ''}[${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}] ${this.describe(progress, false)}`;
    // Spaces wipe what a longer previous line left behind.
    this.options.write(`\r${text.padEnd(this.drawn)}`);
    this.drawn = text.length;
  }

  private describe(progress: Progress, withLabel = true): string {
    const percent = `${Math.floor(clamp(progress.fraction) * 100)}%`.padStart(4);
    const line = `${percent} ${Math.round(progress.rate)} ${this.options.unit ?? 'items'}/s ETA ${formatDuration(progress.etaMs)}${progress.detail ? ` ${progress.detail}` : ''}`;
    return withLabel && this.options.label ? `${this.options.label} ${line}` : line;
  }
}

/** `12s`, `3:05`, `1:02:03`; `--` when unknown. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const s = String(seconds % 60).padStart(2, '0');
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}:${s}`;
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${s}`;
}

function clamp(fraction: number): number {
  return Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
}
