/** The signals a worker stops on by default: what process managers (systemd, Kubernetes) and Ctrl-C send. */
export const DEFAULT_STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** The workers of this process that stop on each signal, and the handler installed for it. */
interface SignalRegistry {
  readonly stops: Map<NodeJS.Signals, Set<() => Promise<void>>>;
  readonly handlers: Map<NodeJS.Signals, () => void>;
}

/**
 * One registry per process, kept on `globalThis` so that two installed copies
 * of this package (a processor from one, a runner from another) still stop
 * together.
 */
function registry(): SignalRegistry {
  const key = Symbol.for('tributary.stop-on-signals');
  const global = globalThis as unknown as Record<symbol, SignalRegistry | undefined>;
  return (global[key] ??= { stops: new Map(), handlers: new Map() });
}

/**
 * Stops a worker (a command processor, a projection runner) gracefully when the
 * process is asked to end, so it leaves its consumer group at once and its
 * partitions move without waiting out the session timeout.
 *
 * Every worker of the process registered for a signal stops at once when it
 * comes, and the signal takes its default course (the process ends) only when
 * the last of them has stopped, and only if the application does not listen to
 * that signal too; if it does, ending the process is left to it. A second
 * signal during a stop that hangs meets Node's default and ends the process.
 *
 * @returns a function that takes the worker out (call it when the worker stops another way).
 */
export function stopOnSignals(stop: () => Promise<void>, signals: readonly NodeJS.Signals[] = DEFAULT_STOP_SIGNALS): () => void {
  const { stops, handlers } = registry();
  for (const signal of signals) {
    const registered = stops.get(signal) ?? new Set();
    registered.add(stop);
    stops.set(signal, registered);
    if (!handlers.has(signal)) {
      const handler = () => void stopAll(signal);
      handlers.set(signal, handler);
      process.once(signal, handler);
    }
  }
  return () => {
    for (const signal of signals) {
      const registered = stops.get(signal);
      registered?.delete(stop);
      if (registered?.size === 0) removeHandler(signal);
    }
  };
}

async function stopAll(signal: NodeJS.Signals): Promise<void> {
  const { stops } = registry();
  const stopping = new Set<() => Promise<void>>();
  // A worker registered for several signals stops once, and no longer listens to the others.
  for (const [each, registered] of stops) {
    if (each !== signal) continue;
    for (const stop of registered) stopping.add(stop);
  }
  for (const [each, registered] of stops) {
    for (const stop of stopping) registered.delete(stop);
    if (registered.size === 0) removeHandler(each);
  }
  removeHandler(signal);
  await Promise.all([...stopping].map((stop) => stop().catch(() => undefined)));
  // Nobody else listens: do what the signal would have done without us.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function removeHandler(signal: NodeJS.Signals): void {
  const { stops, handlers } = registry();
  const handler = handlers.get(signal);
  if (handler) process.off(signal, handler);
  handlers.delete(signal);
  stops.delete(signal);
}
