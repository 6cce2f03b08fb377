import { ShopEventWriter } from './event-writer';
import { ShopEvent } from './shop';

/**
 * Keeps writing events while a test does something else: `batch` events per
 * transaction, one transaction every `intervalMs`, from a prepared list,
 * until stopped or the list runs out. `written` holds exactly the events of
 * the committed transactions, in order: what a full replay must fold.
 */
export class EventFeed {
  readonly written: ShopEvent[] = [];
  private next = 0;
  private running?: Promise<void>;
  private stopping = false;
  private failure?: unknown;

  constructor(
    private readonly writer: ShopEventWriter,
    private readonly events: readonly ShopEvent[],
    private readonly options: { batch: number; intervalMs: number },
  ) {}

  /** Writes the next `count` events now, in one transaction. */
  async writeNow(count: number): Promise<ShopEvent[]> {
    const chunk = this.events.slice(this.next, this.next + count);
    this.next += chunk.length;
    await this.writer.write(chunk);
    this.written.push(...chunk);
    return chunk;
  }

  /** Starts writing in the background. */
  start(): void {
    this.stopping = false;
    this.running = (async () => {
      while (!this.stopping && this.next < this.events.length) {
        try {
          await this.writeNow(this.options.batch);
        } catch (error) {
          this.failure = error;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, this.options.intervalMs));
      }
    })();
  }

  /** Events still to write. */
  get remaining(): number {
    return this.events.length - this.next;
  }

  /** Stops after the transaction in hand; rethrows a write that failed. */
  async stop(): Promise<ShopEvent[]> {
    this.stopping = true;
    await this.running;
    if (this.failure !== undefined) throw this.failure;
    return this.written;
  }
}
