import { join } from 'node:path';
import { WorkerProcess as ChildWorker } from '../../../../test-support/worker-process';

export type { WorkerReport } from '../../../../test-support/worker-process';

/** A processor-worker child process (see processor-worker.ts). */
export class WorkerProcess extends ChildWorker {
  constructor(env: Record<string, string>) {
    super(join(__dirname, 'processor-worker.ts'), env);
  }
}
