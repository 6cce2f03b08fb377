/** Exit codes: 0 fine, 1 the check found an incompatible change or a gap (or a redrive failed again), 2 bad usage or configuration, 3 a failure talking to a service or of a worker. */
export const EXIT = { ok: 0, findings: 1, usage: 2, failure: 3 } as const;
