import { CorruptSnapshotError } from '@tributary/core';
import { expect } from 'chai';
import { InvalidOptionError, Snapshot } from '@tributary/core';
import { RedisSnapshotStore } from '@tributary/redis';
import { snapshotRehydrationContract, snapshotStoreContract } from '@tributary/testing';
import Redis from 'ioredis';
import { redisUrl, uniqueName } from '../../../test-support/integration';

describe('RedisSnapshotStore on a real Redis', function () {
  this.timeout(30_000);
  // Keys of this run's own, deleted at the end.
  const prefix = `${uniqueName('tributary-test')}:snapshot:`;
  let redis: Redis;

  before(() => {
    redis = new Redis(redisUrl());
  });

  after(async () => {
    if (!redis) return;
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  snapshotStoreContract('RedisSnapshotStore', () => new RedisSnapshotStore({ connection: redis, prefix }));
  snapshotRehydrationContract('RedisSnapshotStore', () => new RedisSnapshotStore({ connection: redis, prefix }), { propertyRuns: 25 });

  describe('corrupt values', () => {
    const reported: Array<{ error: CorruptSnapshotError; aggregateType: string; aggregateId: string }> = [];
    let store: RedisSnapshotStore;

    before(() => {
      store = new RedisSnapshotStore({ connection: redis, prefix, onCorrupt: (error, aggregateType, aggregateId) => reported.push({ error, aggregateType, aggregateId }) });
    });
    beforeEach(() => (reported.length = 0));

    const damages: Record<string, (key: string) => Promise<unknown>> = {
      'text that is not JSON': (key) => redis.set(key, '{"version":3,"state":{'),
      'JSON that is not an object': (key) => redis.set(key, '[1,2,3]'),
      'a record without a state': (key) => redis.set(key, JSON.stringify({ version: 3, shapeVersion: 's1', occurredAt: new Date().toISOString() })),
      'a record with a text version': (key) => redis.set(key, JSON.stringify({ version: '3', state: {}, shapeVersion: 's1', occurredAt: new Date().toISOString() })),
      'a record with an unreadable date': (key) => redis.set(key, JSON.stringify({ version: 3, state: {}, shapeVersion: 's1', occurredAt: 'yesterday' })),
      'a record of another aggregate': (key) =>
        redis.set(key, JSON.stringify({ version: 3, aggregateId: 'someone-else', state: {}, shapeVersion: 's1', occurredAt: new Date().toISOString() })),
      'a key that is a Redis hash': async (key) => {
        await redis.del(key);
        await redis.hset(key, 'version', '3');
      },
    };
    for (const [damage, write] of Object.entries(damages)) {
      it(`loads ${damage} as undefined, reports it, and lets a save at its version replace it`, async () => {
        const id = `corrupt ${damage}`;
        await store.save(snapshotOf(id, 3));
        await write(store.keyOf('Damaged', id));
        expect(await store.load('Damaged', id)).to.equal(undefined);
        expect(reported).to.have.length(1);
        expect(reported[0]).to.include({ aggregateType: 'Damaged', aggregateId: id });
        expect(reported[0].error).to.be.instanceOf(CorruptSnapshotError);
        expect(reported[0].error.message).to.include(`Damaged '${id}'`).and.include(prefix);

        // At the version the damaged record claims, where it has one: an older save would still be refused.
        await store.save({ ...snapshotOf(id, 3), shapeVersion: 'healed' });
        expect((await store.load('Damaged', id))?.shapeVersion).to.equal('healed');
        expect(reported).to.have.length(1);
      });
    }
  });

  it('makes and quits a client of its own from a URL', async () => {
    const store = new RedisSnapshotStore({ connection: redisUrl(), prefix });
    await store.save(snapshotOf('own-client', 1));
    expect((await store.load('Damaged', 'own-client'))?.version).to.equal(1);
    await store.close();
  });

  it('refuses a missing connection or a prefix that is not a string', () => {
    expect(() => new RedisSnapshotStore({ connection: '' })).to.throw(InvalidOptionError, /connection/);
    expect(() => new RedisSnapshotStore({} as never)).to.throw(InvalidOptionError, /connection/);
    expect(() => new RedisSnapshotStore({ connection: redis, prefix: 3 as never })).to.throw(InvalidOptionError, /prefix/);
  });
});

function snapshotOf(aggregateId: string, version: number): Snapshot {
  return { aggregateType: 'Damaged', aggregateId, version, state: { id: aggregateId, version }, shapeVersion: 's1', occurredAt: new Date() };
}
