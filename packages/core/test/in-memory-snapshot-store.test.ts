import { InMemorySnapshotStore } from '@tributary/core';
import { snapshotStoreContract } from '@tributary/testing';

snapshotStoreContract('InMemorySnapshotStore', () => new InMemorySnapshotStore(), { propertyRuns: 100 });
