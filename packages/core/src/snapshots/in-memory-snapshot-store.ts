import { Snapshot } from './snapshot';
import { SnapshotQuery, SnapshotStore } from './snapshot-store';

/**
 * The embedded {@link SnapshotStore}: every snapshot ever saved, per aggregate,
 * in this process's memory. Keeping them all lets it answer "as of" queries
 * from the nearest one.
 */
export class InMemorySnapshotStore implements SnapshotStore {
  private readonly byAggregate = new Map<string, Snapshot[]>();

  async save(snapshot: Snapshot): Promise<void> {
    const key = keyOf(snapshot.aggregateType, snapshot.aggregateId);
    const kept = this.byAggregate.get(key) ?? [];
    // Copies: a caller changing its object later must not change what was saved.
    const copy = structuredClone(snapshot);
    const at = kept.findIndex((existing) => existing.version >= snapshot.version);
    if (at === -1) kept.push(copy);
    else if (kept[at].version === snapshot.version) kept[at] = copy;
    else kept.splice(at, 0, copy);
    this.byAggregate.set(key, kept);
  }

  async load(aggregateType: string, aggregateId: string, query: SnapshotQuery = {}): Promise<Snapshot | undefined> {
    const kept = this.byAggregate.get(keyOf(aggregateType, aggregateId)) ?? [];
    for (let index = kept.length - 1; index >= 0; index -= 1) {
      const snapshot = kept[index];
      if (query.maxVersion !== undefined && snapshot.version > query.maxVersion) continue;
      if (query.asOf !== undefined && snapshot.occurredAt.getTime() > query.asOf.getTime()) continue;
      return structuredClone(snapshot);
    }
    return undefined;
  }

  async delete(aggregateType: string, aggregateId: string): Promise<void> {
    this.byAggregate.delete(keyOf(aggregateType, aggregateId));
  }
}

function keyOf(aggregateType: string, aggregateId: string): string {
  return `${aggregateType}\u0000${aggregateId}`;
}
