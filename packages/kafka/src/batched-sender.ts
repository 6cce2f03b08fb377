import { Message } from 'kafkajs';

interface Queued {
  readonly message: Message;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Sends messages through one producer, one send at a time, gathering every
 * message that arrives while a send is in flight into the next one. An
 * idempotent producer keeps one request in flight, so sending each message on
 * its own would cost a broker round trip per message; gathered, a thousand
 * callers at once cost a few round trips, in the order they called.
 */
export class BatchedSender {
  private queued: Queued[] = [];
  private sending?: Promise<void>;

  /** @param send sends one batch; a failure fails every message of the batch. */
  constructor(private readonly send: (messages: Message[]) => Promise<void>) {}

  /** Resolves once the message is acknowledged, rejects with what the batch failed with. */
  enqueue(message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ message, resolve, reject });
      this.sending ??= this.drain().finally(() => (this.sending = undefined));
    });
  }

  /** Resolves once everything queued so far is sent or failed. */
  async flushed(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private async drain(): Promise<void> {
    while (this.queued.length > 0) {
      const batch = this.queued;
      this.queued = [];
      try {
        await this.send(batch.map((queued) => queued.message));
        for (const queued of batch) queued.resolve();
      } catch (error) {
        for (const queued of batch) queued.reject(error);
      }
    }
  }
}
