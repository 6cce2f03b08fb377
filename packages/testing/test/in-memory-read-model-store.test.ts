import { InMemoryReadModelStore, InMemoryWriter, ReadModelStore } from '@tributary/core';
import { readModelStoreContract } from '@tributary/testing';

readModelStoreContract<InMemoryWriter>('InMemoryReadModelStore', {
  create: async () => new InMemoryReadModelStore(),
  write: (writer, key, value) => writer.set(key, value),
  read: async (store: ReadModelStore<InMemoryWriter>, projection, key) => (store as InMemoryReadModelStore).read(projection).get(key) as number | undefined,
});
