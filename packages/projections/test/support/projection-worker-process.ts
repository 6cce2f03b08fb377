import { join } from 'node:path';
import { WorkerProcess } from '../../../../test-support/worker-process';

export type { WorkerReport } from '../../../../test-support/worker-process';

/** A projection-worker child process (see projection-worker.ts). */
export class ProjectionWorkerProcess extends WorkerProcess {
  constructor(env: Record<string, string>) {
    super(join(__dirname, 'projection-worker.ts'), env);
  }
}
