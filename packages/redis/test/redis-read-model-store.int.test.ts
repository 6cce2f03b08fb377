import { expect } from 'chai';
import { CommitOutcome, InvalidOptionError, liveSlot, PartitionOffset, ReadModelStore, shadowSlot } from '@tributary/core';
import { PartialReadModelCommitError, ReadModelStoreUnavailableError, RedisReadModelStore, RedisWriter, ReservedReadModelKeyError } from '@tributary/redis';
import { readModelStoreContract } from '@tributary/testing';
import Redis from 'ioredis';
import { redisUrl, uniqueName } from '../../../test-support/integration';

describe('RedisReadModelStore on a real Redis', function () {
  this.timeout(60_000);
  // Keys of this run's own, deleted at the end.
  const prefix = uniqueName('tributary-test-read-model');
  const TOPIC = 'orders.events';
  let redis: Redis;
  let store: RedisReadModelStore;

  before(async () => {
    redis = new Redis(redisUrl());
    store = new RedisReadModelStore({ client: redis, prefix });
    await store.prepare();
  });

  after(async () => {
    await store?.close();
    if (!redis) return;
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 500 })) keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  });

  readModelStoreContract<RedisWriter>('RedisReadModelStore', {
    create: async () => new RedisReadModelStore({ client: redis, prefix }),
    write: (writer, key, value) => {
      writer.multi.set(writer.key(key), String(value));
    },
    read: async (contracted, projection, key) => {
      const text = await redis.get(await (contracted as RedisReadModelStore).liveKey(projection, key));
      return text === null ? undefined : Number(text);
    },
  });

  /** Every key of a projection, as stored now. */
  async function keysOf(projection: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:{${projection}}*`, count: 500 })) keys.push(...(batch as string[]));
    return keys.sort();
  }

  /** Work that sets `key` to `value` and moves the offset to `nextOffset`. */
  function setting(key: string, value: string, nextOffset = '1') {
    return async ({ writer }: { writer: RedisWriter }) => {
      writer.multi.set(writer.key(key), value);
      return nextOffset;
    };
  }

  it('keeps every key of a projection, pointers and bookkeeping included, under one hash tag', async () => {
    const projection = uniqueName('tagged');
    await store.commit({ slot: liveSlot(projection), topic: TOPIC, partition: 0, expected: null }, async ({ writer, deadLetter }) => {
      writer.multi.set(writer.key('a'), '1');
      deadLetter({ topic: TOPIC, partition: 0, offset: '0', aggregate: 'Order:1' });
      return '1';
    });
    await store.createShadow(projection);
    await store.commit({ slot: shadowSlot(projection), topic: TOPIC, partition: 0, expected: null }, async ({ writer }) => {
      writer.multi.set(writer.key('a'), '2');
      return '1';
    });
    const keys = await keysOf(projection);
    expect(keys).to.deep.equal(
      [
        `:g1:a`,
        `:g1:dead:${TOPIC}:0`,
        `:g1:offset:${TOPIC}:0`,
        `:g1:partitions`,
        `:g2:a`,
        `:g2:offset:${TOPIC}:0`,
        `:g2:partitions`,
        `:generation`,
        `:shadow`,
      ].map((suffix) => `${prefix}:{${projection}}${suffix}`).sort(),
    );
    const base = `${prefix}:{${projection}}`;
    expect(await redis.get(`${base}:g1:offset:${TOPIC}:0`)).to.equal('1');
    expect(await redis.hgetall(`${base}:g1:dead:${TOPIC}:0`)).to.deep.equal({ '0': 'Order:1' });
    expect(await redis.smembers(`${base}:g1:partitions`)).to.deep.equal([`${TOPIC}:0`]);
    expect(await store.liveKey(projection, 'order:o-1')).to.equal(`${prefix}:{${projection}}:g1:order:o-1`);
  });

  it('moves liveKey to the shadow generation on swap, and deletes the old generation', async () => {
    const projection = uniqueName('generations');
    const live = liveSlot(projection);
    for (let offset = 0; offset < 3; offset += 1) {
      await store.commit({ slot: live, topic: TOPIC, partition: 0, expected: offset === 0 ? null : String(offset) }, async ({ writer }) => {
        writer.multi.set(writer.key(`k${offset}`), 'live');
        return String(offset + 1);
      });
    }
    const before = await store.liveKey(projection, 'k0');
    expect(await redis.get(before)).to.equal('live');

    await store.createShadow(projection);
    await store.commit({ slot: shadowSlot(projection), topic: TOPIC, partition: 0, expected: null }, async ({ writer }) => {
      writer.multi.set(writer.key('k0'), 'rebuilt');
      return '3';
    });
    await store.swap(projection, async () => {});

    const after = await store.liveKey(projection, 'k0');
    expect(after).to.not.equal(before);
    expect(await redis.get(after)).to.equal('rebuilt');
    expect(await redis.exists(before)).to.equal(0);
    expect((await keysOf(projection)).filter((key) => key.includes(':g1:'))).to.deep.equal([]);
    expect(await redis.exists(`${prefix}:{${projection}}:shadow`)).to.equal(0);

    // A second rebuild takes a generation never used before.
    await store.createShadow(projection);
    await store.swap(projection, async (liveOffsets) => {
      for (const offset of liveOffsets) {
        await store.commit({ slot: shadowSlot(projection), topic: offset.topic, partition: offset.partition, expected: null }, setting('k0', 'again', offset.nextOffset));
      }
    });
    const third = await store.liveKey(projection, 'k0');
    expect([before, after]).to.not.include(third);
    expect(await redis.get(third)).to.equal('again');
    const generations = new Set((await keysOf(projection)).flatMap((key) => key.match(/:g(\d+):/)?.[1] ?? []));
    expect([...generations]).to.deep.equal([third.match(/:g(\d+):/)![1]]);
  });

  it('lets exactly one of many truly concurrent commits with the same expected offset commit', async () => {
    for (const start of [null, '7']) {
      const projection = uniqueName('racing');
      const live = liveSlot(projection);
      if (start !== null) await store.commit({ slot: live, topic: TOPIC, partition: 0, expected: null }, async () => start);
      const racers = 8;
      // Every racer has read the offset (and WATCHed it) before any of them EXECs.
      let arrived = 0;
      let release!: () => void;
      const allArrived = new Promise<void>((resolve) => (release = resolve));
      let workRuns = 0;
      const outcomes = await Promise.all(
        Array.from({ length: racers }, (_, racer) =>
          store.commit({ slot: live, topic: TOPIC, partition: 0, expected: start }, async ({ writer }) => {
            workRuns += 1;
            writer.multi.set(writer.key('winner'), String(racer));
            writer.multi.rpush(writer.key('log'), String(racer));
            arrived += 1;
            if (arrived === racers) release();
            await allArrived;
            return String(100 + racer);
          }),
        ),
      );
      expect(workRuns).to.equal(racers, 'each racer ran its work once: the losers saw the offset move and stopped');
      const winners = outcomes.flatMap((outcome, racer) => (outcome.committed ? [racer] : []));
      expect(winners).to.have.length(1, JSON.stringify(outcomes));
      const [winner] = winners;
      for (const outcome of outcomes) if (!outcome.committed) expect(outcome).to.deep.equal({ committed: false, stored: String(100 + winner) });
      expect(await redis.get(await store.liveKey(projection, 'winner'))).to.equal(String(winner));
      expect(await redis.lrange(await store.liveKey(projection, 'log'), 0, -1)).to.deep.equal([String(winner)]);
      expect(await store.readOffsets(live)).to.deep.equal([{ topic: TOPIC, partition: 0, nextOffset: String(100 + winner) }]);
    }
  });

  it('runs truly interleaved commits of different partitions side by side: neither aborts the other, each work runs once', async () => {
    const projection = uniqueName('side-by-side');
    const live = liveSlot(projection);
    const partitions = [0, 1, 2];
    for (const round of [0, 1]) {
      // Every commit has WATCHed and read its keys (the work runs after that) before any of them EXECs.
      let arrived = 0;
      let release!: () => void;
      const allArrived = new Promise<void>((resolve) => (release = resolve));
      const workRuns = partitions.map(() => 0);
      const outcomes = await Promise.all(
        partitions.map((partition) =>
          store.commit({ slot: live, topic: TOPIC, partition, expected: round === 0 ? null : '1' }, async ({ writer, deadLetter, parked }) => {
            workRuns[partition] += 1;
            expect([...parked], 'each commit sees the dead letters of its own partition only').to.deep.equal(round === 0 ? [] : [`Order:${partition}`]);
            writer.multi.rpush(writer.key(`p${partition}`), String(round));
            writer.multi.rpush(writer.key('all'), `${partition}:${round}`);
            if (round === 0) deadLetter({ topic: TOPIC, partition, offset: '0', aggregate: `Order:${partition}` });
            arrived += 1;
            if (arrived === partitions.length) release();
            await allArrived;
            return String(round + 1);
          }),
        ),
      );
      expect(workRuns).to.deep.equal(partitions.map(() => 1), `round ${round}: no commit was aborted and re-ran its work`);
      expect(outcomes).to.deep.equal(partitions.map(() => ({ committed: true, nextOffset: String(round + 1) })));
    }
    for (const partition of partitions) expect(await redis.lrange(await store.liveKey(projection, `p${partition}`), 0, -1)).to.deep.equal(['0', '1']);
    expect(await redis.llen(await store.liveKey(projection, 'all'))).to.equal(partitions.length * 2);
    expect(await store.readOffsets(live)).to.deep.equal(partitions.map((partition) => ({ topic: TOPIC, partition, nextOffset: '2' })));
    expect(await store.deadLetters(live)).to.deep.equal(partitions.map((partition) => ({ topic: TOPIC, partition, offset: '0', aggregate: `Order:${partition}` })));
  });

  it('resolves dead letters atomically with a commit of a partition new to the set that dead-letters the same aggregate', async () => {
    for (let round = 0; round < 10; round += 1) {
      const projection = uniqueName('resolve-new-partition');
      const live = liveSlot(projection);
      const old = { topic: TOPIC, partition: 0, offset: '1', aggregate: 'Order:1' };
      const fresh = { topic: TOPIC, partition: 1, offset: '7', aggregate: 'Order:1' };
      await store.commit({ slot: live, topic: TOPIC, partition: 0, expected: null }, async ({ deadLetter }) => (deadLetter(old), '2'));
      const [committed, resolved] = await Promise.all([
        delay(round % 3).then(() => store.commit({ slot: live, topic: TOPIC, partition: 1, expected: null }, async ({ deadLetter }) => (deadLetter(fresh), '8'))),
        store.resolveDeadLetters(live, [old], async (writer) => {
          writer.multi.set(writer.key('resolved'), '1');
        }),
      ]);
      expect(committed).to.deep.equal({ committed: true, nextOffset: '8' });
      // Resolved first: only the fresh one is left. Committed first: the old one is no longer all of Order:1's, so both stay.
      expect(await store.deadLetters(live)).to.deep.equal(resolved ? [fresh] : [old, fresh]);
      expect(await redis.get(await store.liveKey(projection, 'resolved'))).to.equal(resolved ? '1' : null);
    }
  });

  it('swaps atomically with a live commit of a partition new to the set: the swapped-in version has it', async () => {
    // The commit lands between the swap's WATCH and EXEC in roughly one round in ten; the swap must see it then too.
    for (let round = 0; round < 25; round += 1) {
      const projection = uniqueName('swap-new-partition');
      const live = liveSlot(projection);
      const shadow = shadowSlot(projection);
      await store.commit({ slot: live, topic: TOPIC, partition: 0, expected: null }, setting('p0', 'live', '10'));
      await store.createShadow(projection);
      await store.commit({ slot: shadow, topic: TOPIC, partition: 0, expected: null }, setting('p0', 'rebuilt', '10'));
      // The rebuild catches up on what the live version has, writing what the live commit writes.
      const catchUp = async (liveOffsets: readonly PartitionOffset[]) => {
        for (const { partition, nextOffset } of liveOffsets) {
          const at = (await store.readOffsets(shadow)).find((offset) => offset.partition === partition)?.nextOffset ?? null;
          if (at !== nextOffset) await store.commit({ slot: shadow, topic: TOPIC, partition, expected: at }, setting(`p${partition}`, 'new', nextOffset));
        }
      };
      const [, outcome] = await Promise.all([
        store.swap(projection, catchUp),
        delay(round % 4).then(() => store.commit({ slot: live, topic: TOPIC, partition: 1, expected: null }, setting('p1', 'new', '5'))),
      ]);
      // Before the swap it was caught up on; after, it is a first commit of the swapped-in version. Either way it is live.
      expect(outcome).to.deep.equal({ committed: true, nextOffset: '5' });
      expect(await store.readOffsets(live)).to.deep.equal([
        { topic: TOPIC, partition: 0, nextOffset: '10' },
        { topic: TOPIC, partition: 1, nextOffset: '5' },
      ]);
      expect(await redis.get(await store.liveKey(projection, 'p0'))).to.equal('rebuilt');
      expect(await redis.get(await store.liveKey(projection, 'p1'))).to.equal('new');
    }
  });

  it('converges when a swap races a stream of live commits, losing no batch', async () => {
    const projection = uniqueName('streaming');
    const live = liveSlot(projection);
    const shadow = shadowSlot(projection);
    const partitions = [0, 1];
    // Batch n of a partition moves its offset from n-1 to n and appends n to the partition's list: the list shows gaps and repeats.
    const batch = (slot: typeof live, partition: number, expected: string | null) => {
      const next = String(Number(expected ?? '0') + 1);
      return store.commit({ slot, topic: TOPIC, partition, expected }, async ({ writer }) => {
        writer.multi.rpush(writer.key(`p${partition}`), next);
        return next;
      });
    };

    let streaming = true;
    let committedAfterSwap = 0;
    let swapped = false;
    const positions = new Map<number, string | null>(partitions.map((partition) => [partition, null]));
    const stream = async (partition: number) => {
      while (streaming) {
        const outcome: CommitOutcome = await batch(live, partition, positions.get(partition)!);
        // A failed compare-and-set re-seeks to the stored offset, as a runner does.
        positions.set(partition, outcome.committed ? outcome.nextOffset : outcome.stored);
        if (outcome.committed && swapped) committedAfterSwap += 1;
        await delay(3);
      }
    };
    const streams = partitions.map(stream);
    await delay(60);

    await store.createShadow(projection);
    const catchUps: PartitionOffset[][] = [];
    await store.swap(projection, async (liveOffsets) => {
      catchUps.push([...liveOffsets]);
      for (const { partition, nextOffset } of liveOffsets) {
        let at = (await store.readOffsets(shadow)).find((offset) => offset.partition === partition)?.nextOffset ?? null;
        while (at === null || Number(at) < Number(nextOffset)) {
          const outcome = await batch(shadow, partition, at);
          expect(outcome.committed, JSON.stringify(outcome)).to.equal(true);
          at = (outcome as { nextOffset: string }).nextOffset;
        }
      }
    });
    swapped = true;
    await delay(60);
    streaming = false;
    await Promise.all(streams);

    expect(catchUps.length, 'live commits landed during catchUp, so the swap caught up again').to.be.at.least(2);
    expect(committedAfterSwap, 'the live stream goes on after the swap').to.be.greaterThan(0);
    const offsets = await store.readOffsets(live);
    expect(offsets.map((offset) => offset.partition)).to.deep.equal(partitions);
    for (const { partition, nextOffset } of offsets) {
      const list = await redis.lrange(await store.liveKey(projection, `p${partition}`), 0, -1);
      expect(list).to.deep.equal(Array.from({ length: Number(nextOffset) }, (_, index) => String(index + 1)), `partition ${partition}: every batch exactly once`);
      expect(positions.get(partition)).to.equal(nextOffset);
    }
    expect((await keysOf(projection)).filter((key) => key.includes(':g1:'))).to.deep.equal([]);
  });

  it('passes on, writing nothing, a transaction Redis refuses for a malformed command', async () => {
    const projection = uniqueName('refused');
    const live = liveSlot(projection);
    await store.commit({ slot: live, topic: TOPIC, partition: 0, expected: null }, setting('a', '1'));
    const refused = store.commit({ slot: live, topic: TOPIC, partition: 0, expected: '1' }, async ({ writer }) => {
      writer.multi.set(writer.key('a'), '2');
      writer.multi.call('NO-SUCH-COMMAND', writer.key('a'));
      return '2';
    });
    let error: unknown;
    await refused.catch((caught) => (error = caught));
    expect((error as Error)?.message).to.match(/EXECABORT/);
    expect(await redis.get(await store.liveKey(projection, 'a'))).to.equal('1');
    expect(await store.readOffsets(live)).to.deep.equal([{ topic: TOPIC, partition: 0, nextOffset: '1' }]);
  });

  it('reports a transaction that Redis ran only in part (a write against a key of another type)', async () => {
    const projection = uniqueName('partial');
    const live = liveSlot(projection);
    await store.commit({ slot: live, topic: TOPIC, partition: 0, expected: null }, setting('a', 'text'));
    let error: unknown;
    await store
      .commit({ slot: live, topic: TOPIC, partition: 0, expected: '1' }, async ({ writer }) => {
        writer.multi.hset(writer.key('a'), 'field', 'value');
        return '5';
      })
      .catch((caught) => (error = caught));
    expect(error).to.be.instanceOf(PartialReadModelCommitError);
    expect((error as PartialReadModelCommitError).message).to.include(projection).and.include('WRONGTYPE');
  });

  it('refuses the key names it keeps for itself', async () => {
    const projection = uniqueName('reserved');
    for (const name of ['offsets', 'dead', 'partitions', `offset:${TOPIC}:0`, `dead:${TOPIC}:0`, 'offsets:x', '']) {
      let error: unknown;
      await store.commit({ slot: liveSlot(projection), topic: TOPIC, partition: 0, expected: null }, async ({ writer }) => {
        writer.key(name);
        return '1';
      }).catch((caught) => (error = caught));
      expect(error, name).to.be.instanceOf(ReservedReadModelKeyError);
      await store.liveKey(projection, name).then(
        () => expect.fail(`liveKey(${JSON.stringify(name)}) must be refused`),
        (caught) => expect(caught).to.be.instanceOf(ReservedReadModelKeyError),
      );
    }
    expect(await store.readOffsets(liveSlot(projection))).to.deep.equal([]);
    // Names that merely start like them are the handlers'.
    let expected: string | null = null;
    for (const name of ['offsetting', 'deadline:1', 'partitions-by-day', 'order:dead:1']) {
      expect(await store.commit({ slot: liveSlot(projection), topic: TOPIC, partition: 0, expected }, setting(name, 'x')), name).to.deep.equal({ committed: true, nextOffset: '1' });
      expected = '1';
      expect(await redis.get(await store.liveKey(projection, name))).to.equal('x');
    }
  });

  it('reports an unreachable Redis as a retriable ReadModelStoreUnavailableError', async () => {
    const unreachable = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    unreachable.on('error', () => undefined);
    const offline: ReadModelStore<RedisWriter> = new RedisReadModelStore({ client: unreachable, prefix });
    const attempts: Array<() => Promise<unknown>> = [
      () => offline.prepare(),
      () => offline.readOffsets(liveSlot('anything')),
      () => offline.commit({ slot: liveSlot('anything'), topic: TOPIC, partition: 0, expected: null }, async () => '1'),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => expect.fail('an unreachable Redis must fail'),
        (caught: unknown) => caught,
      );
      expect(error).to.be.instanceOf(ReadModelStoreUnavailableError);
      expect(error).to.include({ code: 'READ_MODEL_STORE_UNAVAILABLE', retriable: true });
      expect(offline.isTransient!(error)).to.equal(true);
      expect(offline.isTransient!((error as ReadModelStoreUnavailableError).cause)).to.equal(true);
    }
    expect(offline.isTransient!(new Error('handler bug'))).to.equal(false);
    await offline.close();
    unreachable.disconnect();
  });

  it('passes errors of the work and of catchUp through unchanged', async () => {
    const projection = uniqueName('failing');
    const failure = Object.assign(new Error('Connection is closed.'), { fromHandler: true });
    const caught = await store.commit({ slot: liveSlot(projection), topic: TOPIC, partition: 0, expected: null }, async () => Promise.reject(failure)).catch((error) => error);
    expect(caught).to.equal(failure);
    const caughtInSwap = await store.swap(projection, async () => Promise.reject(failure)).catch((error) => error);
    expect(caughtInSwap).to.equal(failure);
    await store.dropShadow(projection);
  });

  it('makes and quits a client of its own from a URL, and refuses bad options', async () => {
    const own = new RedisReadModelStore({ url: redisUrl(), prefix });
    const projection = uniqueName('own-client');
    expect(await own.commit({ slot: liveSlot(projection), topic: TOPIC, partition: 0, expected: null }, setting('a', '1'))).to.deep.equal({ committed: true, nextOffset: '1' });
    await own.close();
    expect(await redis.get(await store.liveKey(projection, 'a'))).to.equal('1');

    expect(() => new RedisReadModelStore({} as never)).to.throw(InvalidOptionError, /client.*url/);
    expect(() => new RedisReadModelStore({ url: '' })).to.throw(InvalidOptionError, /url/);
    expect(() => new RedisReadModelStore({ url: redisUrl(), client: redis })).to.throw(InvalidOptionError, /not both/);
    expect(() => new RedisReadModelStore({ client: redis, prefix: '' })).to.throw(InvalidOptionError, /prefix/);
  });
});

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
