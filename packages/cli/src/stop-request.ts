/** A request to stop a long-running command, and where it came from. */
export interface StopRequest {
  /** Resolves with what asked to stop: `SIGTERM`, `SIGINT` or `aborted`. */
  readonly requested: Promise<string>;
  /** Stops listening (removes the process signal handlers). */
  dispose(): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Listens for the request to stop: the given AbortSignal (tests, a host
 * program), or else the process's SIGTERM and SIGINT. The handlers are
 * `once`: a second Ctrl-C meets Node's default and ends the process, the way
 * out of a graceful stop that hangs.
 */
export function listenForStop(signal?: AbortSignal): StopRequest {
  let dispose = () => {};
  const requested = new Promise<string>((resolve) => {
    if (signal) {
      if (signal.aborted) return resolve('aborted');
      const onAbort = () => resolve('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      dispose = () => signal.removeEventListener('abort', onAbort);
      return;
    }
    const handlers = SIGNALS.map((name) => {
      const handler = () => {
        for (const [other, otherHandler] of handlers) if (other !== name) process.off(other, otherHandler);
        resolve(name);
      };
      process.once(name, handler);
      return [name, handler] as const;
    });
    dispose = () => {
      for (const [name, handler] of handlers) process.off(name, handler);
    };
  });
  return { requested, dispose: () => dispose() };
}
