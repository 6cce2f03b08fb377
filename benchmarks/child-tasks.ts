import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * How a benchmark runs each measured task in a fresh Node process (so its
 * memory and JIT state are its own): the parent calls `inChild(task)`, which
 * starts `run.js <benchmark>` with the task in an environment variable; that
 * process, seeing it, runs only the task and prints its result on one line.
 */
export function childTasks<Task extends { kind: string }>(benchmark: string, runTask: (task: Task) => Promise<unknown>) {
  const taskEnv = `BENCH_${benchmark.toUpperCase()}_TASK`;
  const resultPrefix = `BENCH_${benchmark.toUpperCase()}_RESULT `;

  /** Runs one task in a fresh Node process (optionally CPU-profiled) and returns what it printed. */
  function inChild<T>(task: Task, profileDir?: string): Promise<T> {
    const args = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(__dirname, 'run.js'), benchmark];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { env: { ...process.env, [taskEnv]: JSON.stringify(task) }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.on('error', reject);
      child.on('exit', (code) => {
        const line = out.split('\n').find((candidate) => candidate.startsWith(resultPrefix));
        if (code !== 0 || !line) return reject(new Error(`${task.kind} child exited with ${code}${out ? `:\n${out}` : ''}`));
        resolve(JSON.parse(line.slice(resultPrefix.length)) as T);
      });
    });
  }

  /** In a child, runs its one task and prints the result; otherwise runs `main`. Exits either way. */
  function start(main: () => Promise<void>): void {
    const taskText = process.env[taskEnv];
    const work = taskText
      ? runTask(JSON.parse(taskText) as Task).then((result) => new Promise<void>((done) => process.stdout.write(`${resultPrefix}${JSON.stringify(result)}\n`, () => done())))
      : main();
    work.then(
      // kafkajs can leave timers behind after disconnect; do not wait for them.
      () => process.exit(process.exitCode ?? 0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  }

  return { inChild, start };
}
