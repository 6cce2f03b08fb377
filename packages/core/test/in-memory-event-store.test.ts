import { InMemoryEventStore } from '@tributary/core';
import { eventStoreContract } from '@tributary/testing';

eventStoreContract('InMemoryEventStore', async () => new InMemoryEventStore());
