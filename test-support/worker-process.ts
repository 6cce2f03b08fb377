import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One line a worker reported. */
export interface WorkerReport {
  readonly event: string;
  readonly pid: number;
  readonly [field: string]: unknown;
}

const root = join(__dirname, '..');

/**
 * A test worker as a real child process (`node -r ts-node/register <script>`),
 * which reports what it does as JSON lines on stdout: what it reported so far,
 * and ways to wait for, stop or kill it. Crash tests SIGKILL these.
 */
export class WorkerProcess {
  readonly reports: WorkerReport[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters: Array<{ match: (report: WorkerReport) => boolean; resolve: (report: WorkerReport) => void }> = [];
  private stderr = '';

  constructor(script: string, env: Record<string, string>) {
    this.child = spawn(process.execPath, ['-r', 'ts-node/register', script], {
      cwd: root,
      env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.tests.json'), TS_NODE_TRANSPILE_ONLY: 'true', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let report: WorkerReport;
      try {
        report = JSON.parse(line);
      } catch {
        return;
      }
      this.reports.push(report);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(report)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(report);
        }
      }
    });
    this.child.stderr!.on('data', (chunk) => (this.stderr += chunk.toString()));
    // 'close', not 'exit': 'exit' can fire while stdout still holds the last reports.
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The reports of one kind. */
  reported(event: string): WorkerReport[] {
    return this.reports.filter((report) => report.event === event);
  }

  /** Resolves with the first report (already seen or to come) that matches; rejects after `timeoutMs` or if the worker exits first. */
  waitFor(match: string | ((report: WorkerReport) => boolean), timeoutMs = 60_000): Promise<WorkerReport> {
    const predicate = typeof match === 'string' ? (report: WorkerReport) => report.event === match : match;
    const seen = this.reports.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${this.pid} reported no matching event in ${timeoutMs} ms; reports: ${JSON.stringify(this.reports.slice(-5))}; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`worker ${this.pid} exited (${code ?? signal}) before a matching event; reports: ${JSON.stringify(this.reports.slice(-5))}; stderr: ${this.stderr.slice(-2000)}`));
      });
      this.waiters.push({
        match: predicate,
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report);
        },
      });
    });
  }

  /** Lets a worker started with WAIT_FOR_GO=1 start its runner. */
  go(): void {
    this.child.stdin!.write('go\n');
  }

  /** Asks the worker to stop cleanly and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.stdin!.write('stop\n');
    await this.exited;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
