import { ReadModelSlot, ReadModelStore } from '@tributary/core';
import { fetchTopicOffsets } from '@tributary/kafka';
import { Admin } from 'kafkajs';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it holds; rejects after `timeoutMs` with `describe()` (what was last seen). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 30_000, describe: () => string | Promise<string> = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms ${await describe()}`);
    await sleep(100);
  }
}

/** Per partition of `topic`: the store's next offset for the slot, and the end of the partition. */
export async function positions(admin: Admin, topic: string, store: ReadModelStore<unknown>, slot: ReadModelSlot): Promise<{ partition: number; stored: string | null; end: string }[]> {
  const stored = new Map((await store.readOffsets(slot)).filter((offset) => offset.topic === topic).map((offset) => [offset.partition, offset.nextOffset]));
  return (await fetchTopicOffsets(admin, topic)).map(({ partition, high }) => ({ partition, stored: stored.get(partition) ?? null, end: high }));
}

/**
 * Waits until the slot's stored offsets reach the end of every partition of
 * `topic` (transaction markers included). Offsets and read model commit
 * together, so from then on the read model must be the full replay's.
 */
export async function caughtUp(admin: Admin, topic: string, store: ReadModelStore<unknown>, slot: ReadModelSlot, timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await eventually(
    async () => {
      const now = await positions(admin, topic, store, slot);
      last = now;
      return now.every((position) => position.stored === position.end || (position.stored === null && position.end === '0'));
    },
    timeoutMs,
    () => `(the ${slot.version} offsets of ${slot.projection} never reached the end of ${topic}: ${JSON.stringify(last)})`,
  );
}
