import {
  BatchCommit,
  BatchContext,
  CommitOutcome,
  DeadLetterEntry,
  InvalidOptionError,
  PartitionOffset,
  ReadModelSlot,
  ReadModelStoreUnavailableError,
  ReadModelStore,
  ShadowBehindError,
  TributaryError,
  compareDeadLetters,
  liveSlot,
} from '@tributary/core';
import Redis, { ChainableCommander } from 'ioredis';
import { isRedisConnectionError, PartialReadModelCommitError, ReservedReadModelKeyError } from './redis-read-model-store.errors';
import { RedisWriter } from './redis-writer';

/** Options of {@link RedisReadModelStore}: give `client` or `url`. */
export interface RedisReadModelStoreOptions {
  /** An ioredis client the caller owns (and quits). The store duplicates it for its transactions. */
  readonly client?: Redis;
  /** A `redis://…` URL, from which the store makes a client of its own that {@link RedisReadModelStore.close} quits. */
  readonly url?: string;
  /** Starts every key the store writes. Defaults to `tributary`. */
  readonly prefix?: string;
}

/** Conflicting transactions a commit loses in a row before it gives up with a retriable error. */
const MAX_ATTEMPTS = 64;
/** Idle transaction connections kept for the next commit; more are closed when released. */
const MAX_IDLE_CONNECTIONS = 16;
/**
 * First `:`-separated parts of the key names of a generation the store keeps
 * for itself: `partitions`, `offset:<topic>:<partition>` and
 * `dead:<topic>:<partition>`, and `offsets`, the former name of the offsets.
 */
const RESERVED_HEADS = new Set(['partitions', 'offset', 'offsets', 'dead']);

/** An error thrown by the caller's `work` or `catchUp`: it passes through unchanged, never taken for a Redis failure. */
class CallerFailure {
  constructor(readonly error: unknown) {}
}

/**
 * A {@link ReadModelStore} on Redis. Handlers queue their writes on the
 * batch's MULTI ({@link RedisWriter}); the store adds the offset move and
 * the dead letters, and runs it all as one transaction.
 *
 * Layout: every key of a projection shares the hash tag `{<projection>}`, so
 * its transactions work on a cluster too. Each version of a read model is a
 * generation `g<n>`, whose keys all start with `<prefix>:{<projection>}:g<n>:`:
 *
 * - `…:g<n>:N`: data key `N` of the handlers ({@link RedisWriter.key});
 * - `…:g<n>:offset:<topic>:<partition>`: a string, the partition's next offset;
 * - `…:g<n>:dead:<topic>:<partition>`: a hash of the partition's dead letters,
 *   field the offset, value the aggregate;
 * - `…:g<n>:partitions`: a set of the `<topic>:<partition>` that have an offset
 *   or dead letters, so the store can list them.
 *
 * The pointer `<prefix>:{<projection>}:live` holds the live generation
 * (absent: 1), `…:shadow` the shadow's, and `…:generation` the highest
 * generation handed out, so none is used twice. Handlers cannot name keys
 * whose first `:`-separated part is `offset`, `offsets`, `dead` or `partitions`.
 *
 * A commit is optimistic: it WATCHes the pointer and its own partition's
 * offset and dead letters (only those: commits of other partitions run side
 * by side without disturbing it), compares the stored offset with the
 * expected one, and EXECs; when another transaction touched those keys in
 * between, it starts over (so `work` may run more than once: it must only
 * queue writes and record dead letters). Resolving dead letters and swapping
 * WATCH the set of partitions and every partition's keys they read, so a
 * commit, even one of a partition new to the set, makes them start over
 * rather than interleave. A swap points `live` at the shadow's generation in
 * one transaction, then deletes the old generation's keys; readers therefore
 * ask for keys with {@link RedisReadModelStore.liveKey} each time, not once.
 *
 * Each transaction runs on a connection of its own (WATCH belongs to a
 * connection), from a small pool duplicated from the client; those
 * connections never reconnect, so a WATCH cannot silently vanish with one.
 * Deleting a generation SCANs one server: use a standalone or replicated
 * Redis, or one cluster node per projection's slot.
 *
 * @example
 * ```ts
 * const store = new RedisReadModelStore({ url: 'redis://localhost:6379' });
 * const runner = new ProjectionRunner({ app: 'shop', brokers, aggregates: [Order], projection: OrderSummary, store });
 * await runner.start();
 *
 * // Elsewhere, reading the live read model:
 * const order = await redis.hgetall(await store.liveKey('order-summary', 'order:o-1'));
 * ```
 */
export class RedisReadModelStore implements ReadModelStore<RedisWriter> {
  readonly prefix: string;
  private readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly idle: Redis[] = [];
  private readonly busy = new Set<Redis>();
  private closed = false;

  constructor(options: RedisReadModelStoreOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError("RedisReadModelStore needs options: { client: <ioredis client> } or { url: 'redis://…' }");
    }
    const { client, url } = options;
    if (client !== undefined && url !== undefined) throw new InvalidOptionError('RedisReadModelStore takes client or url, not both; pass one');
    if (client !== undefined) {
      if (!client || typeof (client as Redis).duplicate !== 'function') throw new InvalidOptionError('RedisReadModelStore option client must be an ioredis client');
      this.client = client;
      this.ownsClient = false;
    } else if (typeof url === 'string' && url.length > 0) {
      this.client = new Redis(url, { lazyConnect: true });
      this.ownsClient = true;
    } else {
      throw new InvalidOptionError("RedisReadModelStore needs option client (an ioredis client) or url (a non-empty 'redis://…' URL)");
    }
    const prefix = options.prefix ?? 'tributary';
    if (typeof prefix !== 'string' || prefix.length === 0) {
      throw new InvalidOptionError(`RedisReadModelStore option prefix must be a non-empty string, got ${JSON.stringify(prefix)}`);
    }
    this.prefix = prefix;
  }

  /** Redis needs no schema: checks that the server answers. */
  async prepare(): Promise<void> {
    await this.guard('reach Redis', () => this.client.ping());
  }

  /**
   * The key that holds read-model key `name` of the projection's live
   * version, as of now: ask again after a rebuild swaps, when the old
   * generation's keys are deleted.
   */
  async liveKey(projection: string, name: string): Promise<string> {
    checkProjection(projection);
    const generation = await this.guard('read the live generation', () => this.client.get(this.pointerKey(projection, 'live')));
    return this.userKey(projection, generationOf('live', generation) ?? 1, name);
  }

  async readOffsets(slot: ReadModelSlot): Promise<PartitionOffset[]> {
    const read = await this.readPartitions(slot, 'offsets', (multi, key) => multi.get(key.offset));
    return read
      .flatMap(([member, nextOffset]) => (nextOffset === null ? [] : [{ ...parseMember(member), nextOffset: nextOffset as string }]))
      .sort((a, b) => (a.topic !== b.topic ? (a.topic < b.topic ? -1 : 1) : a.partition - b.partition));
  }

  async deadLetters(slot: ReadModelSlot): Promise<DeadLetterEntry[]> {
    const read = await this.readPartitions(slot, 'dead letters', (multi, key) => multi.hgetall(key.dead));
    return read.flatMap(([member, hash]) => deadLettersOf(member, hash as Record<string, string>)).sort(compareDeadLetters);
  }

  async commit(batch: BatchCommit, work: (context: BatchContext<RedisWriter>) => Promise<string>): Promise<CommitOutcome> {
    const { slot, topic, partition, expected } = batch;
    checkProjection(slot.projection);
    const member = partitionMember(topic, partition);
    return this.transaction(`commit to ${describeSlot(slot)} ${member}`, async (connection) => {
      for (let attempt = 1; ; attempt += 1) {
        const pointer = this.pointerKey(slot.projection, slot.version);
        const [generationText] = await run(connection.pipeline().watch(pointer).get(pointer), 1);
        const generation = generationOf(slot.version, generationText as string | null);
        if (generation === undefined) {
          // No shadow yet: it holds no offset, so only a first commit (expected null) goes ahead, creating it.
          await connection.unwatch();
          if (expected !== null) return { committed: false, stored: null };
          await this.allocateShadow(connection, slot.projection, 'if-absent');
          continue;
        }
        // Only this partition's keys: a commit of another partition does not touch them, so it cannot abort this one.
        const own = this.partitionKeys(slot.projection, generation, member);
        const [storedText, deadHash] = await run(connection.pipeline().watch(own.offset, own.dead).get(own.offset).hgetall(own.dead), 1);
        const stored = (storedText as string | null) ?? null;
        if (stored !== expected) {
          await connection.unwatch();
          return { committed: false, stored };
        }
        const parked = new Set(Object.values(deadHash as Record<string, string>));
        // Dead letters by partition, then offset: one field per offset, so a dead letter recorded twice stays one.
        const added = new Map<string, Map<string, string>>();
        const multi = connection.multi();
        const nextOffset = await callerWork(() =>
          work({
            writer: this.writer(multi, slot.projection, generation),
            parked,
            deadLetter: (entry) => {
              const of = partitionMember(entry.topic, entry.partition);
              if (!added.has(of)) added.set(of, new Map());
              added.get(of)!.set(entry.offset, entry.aggregate);
              parked.add(entry.aggregate);
            },
          }),
        );
        multi.set(own.offset, nextOffset);
        for (const [of, letters] of added) multi.hset(this.partitionKeys(slot.projection, generation, of).dead, Object.fromEntries(letters));
        // Changes the set (and so aborts a resolve or swap WATCHing it) only when a partition is new to it.
        multi.sadd(this.partitionsKey(slot.projection, generation), member, ...[...added.keys()].filter((of) => of !== member));
        if (await this.execute(multi, slot.projection)) return { committed: true, nextOffset };
        await conflictBackoff(attempt, `commit to ${describeSlot(slot)} ${member}`);
      }
    });
  }

  async resolveDeadLetters(slot: ReadModelSlot, entries: readonly DeadLetterEntry[], work: (writer: RedisWriter) => Promise<void>): Promise<boolean> {
    checkProjection(slot.projection);
    const aggregates = new Set(entries.map((entry) => entry.aggregate));
    const wanted = new Set(entries.map(deadLetterField));
    return this.transaction(`resolve dead letters of ${describeSlot(slot)}`, async (connection) => {
      for (let attempt = 1; ; attempt += 1) {
        const pointer = this.pointerKey(slot.projection, slot.version);
        const [generationText] = await run(connection.pipeline().watch(pointer).get(pointer), 1);
        const generation = generationOf(slot.version, generationText as string | null);
        if (generation === undefined) {
          await connection.unwatch();
          if (entries.length > 0) return false;
          await this.allocateShadow(connection, slot.projection, 'if-absent');
          continue;
        }
        // An aggregate's dead letters may sit in any partition: WATCH them all, and the set, which a commit of a new partition changes.
        const members = await this.watchPartitions(connection, slot.projection, generation);
        const hashes = await this.watchAndRead(connection, members.map((member) => this.partitionKeys(slot.projection, generation, member).dead), (pipeline, key) => pipeline.hgetall(key));
        const outstanding = members.flatMap((member, index) => deadLettersOf(member, hashes[index] as Record<string, string>).filter((entry) => aggregates.has(entry.aggregate)));
        if (outstanding.length !== wanted.size || !outstanding.every((entry) => wanted.has(deadLetterField(entry)))) {
          await connection.unwatch();
          return false;
        }
        const multi = connection.multi();
        await callerWork(() => work(this.writer(multi, slot.projection, generation)));
        for (const member of new Set(outstanding.map((entry) => partitionMember(entry.topic, entry.partition)))) {
          const offsets = outstanding.filter((entry) => partitionMember(entry.topic, entry.partition) === member).map((entry) => entry.offset);
          multi.hdel(this.partitionKeys(slot.projection, generation, member).dead, ...offsets);
        }
        if (await this.execute(multi, slot.projection)) return true;
        await conflictBackoff(attempt, `resolve dead letters of ${describeSlot(slot)}`);
      }
    });
  }

  async createShadow(projection: string): Promise<void> {
    checkProjection(projection);
    const previous = await this.transaction(`create the shadow of '${projection}'`, (connection) => this.allocateShadow(connection, projection, 'replace'));
    if (previous !== undefined) await this.deleteGeneration(projection, previous);
  }

  async swap(projection: string, catchUp: (live: readonly PartitionOffset[]) => Promise<void>): Promise<void> {
    checkProjection(projection);
    await this.transaction(`create the shadow of '${projection}'`, (connection) => this.allocateShadow(connection, projection, 'if-absent'));
    const livePointer = this.pointerKey(projection, 'live');
    const shadowPointer = this.pointerKey(projection, 'shadow');
    // Optimistic: no lock stops live commits while catchUp runs; if one lands, catch up again.
    for (;;) {
      const live = await this.readOffsets(liveSlot(projection));
      await catchUp(live);
      const replaced = await this.transaction(`swap the shadow of '${projection}' in`, async (connection) => {
        const [liveText, shadowText] = await run(connection.pipeline().watch(livePointer, shadowPointer).get(livePointer).get(shadowPointer), 1);
        const liveGeneration = generationOf('live', liveText as string | null) ?? 1;
        const shadowGeneration = generationOf('shadow', shadowText as string | null);
        if (shadowGeneration === undefined) {
          // Dropped while catching up: start again from an empty one, which the check below refuses unless live is empty too.
          await connection.unwatch();
          await this.allocateShadow(connection, projection, 'if-absent');
          return undefined;
        }
        // Every offset of both versions, and both sets of partitions: a live commit, even of a new partition, changes one of them.
        const liveMembers = await this.watchPartitions(connection, projection, liveGeneration);
        const shadowMembers = await this.watchPartitions(connection, projection, shadowGeneration);
        const offsetKeys = [
          ...liveMembers.map((member) => this.partitionKeys(projection, liveGeneration, member).offset),
          ...shadowMembers.map((member) => this.partitionKeys(projection, shadowGeneration, member).offset),
        ];
        const read = await this.watchAndRead(connection, offsetKeys, (pipeline, key) => pipeline.get(key));
        const liveNow = offsetsByMember(liveMembers, read.slice(0, liveMembers.length));
        const shadowNow = offsetsByMember(shadowMembers, read.slice(liveMembers.length));
        if (!sameOffsets(live, liveNow)) {
          await connection.unwatch();
          return undefined;
        }
        for (const offset of live) {
          const ahead = shadowNow.get(partitionMember(offset.topic, offset.partition)) ?? null;
          if (ahead === null || BigInt(ahead) < BigInt(offset.nextOffset)) {
            await connection.unwatch();
            throw new CallerFailure(new ShadowBehindError(projection, offset.topic, offset.partition, ahead, offset.nextOffset));
          }
        }
        const multi = connection.multi().set(livePointer, String(shadowGeneration)).del(shadowPointer);
        return (await this.execute(multi, projection)) ? liveGeneration : undefined;
      });
      if (replaced === undefined) continue;
      await this.deleteGeneration(projection, replaced);
      return;
    }
  }

  async dropShadow(projection: string): Promise<void> {
    checkProjection(projection);
    const pointer = this.pointerKey(projection, 'shadow');
    const dropped = await this.transaction(`drop the shadow of '${projection}'`, async (connection) => {
      for (let attempt = 1; ; attempt += 1) {
        const [generationText] = await run(connection.pipeline().watch(pointer).get(pointer), 1);
        const generation = generationOf('shadow', generationText as string | null);
        if (generation === undefined) {
          await connection.unwatch();
          return undefined;
        }
        if (await this.execute(connection.multi().del(pointer), projection)) return generation;
        await conflictBackoff(attempt, `drop the shadow of '${projection}'`);
      }
    });
    if (dropped !== undefined) await this.deleteGeneration(projection, dropped);
  }

  /** Closes the transaction connections, and quits the client the store made from a URL; a client passed in is left to its owner. */
  async close(): Promise<void> {
    this.closed = true;
    const connections = [...this.idle, ...this.busy];
    this.idle.length = 0;
    this.busy.clear();
    await Promise.all(connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    if (this.ownsClient) await this.client.quit().catch(() => this.client.disconnect());
  }

  /** Lost or refused connections, servers loading or failing over, and this store's retriable errors. */
  isTransient(error: unknown): boolean {
    if (error instanceof TributaryError) return error.retriable;
    return isRedisConnectionError(error);
  }

  private writer(multi: ChainableCommander, projection: string, generation: number): RedisWriter {
    return { multi, key: (name) => this.userKey(projection, generation, name) };
  }

  private base(projection: string): string {
    return `${this.prefix}:{${projection}}`;
  }

  private pointerKey(projection: string, version: ReadModelSlot['version']): string {
    return `${this.base(projection)}:${version}`;
  }

  private dataKey(projection: string, generation: number, name: string): string {
    return `${this.base(projection)}:g${generation}:${name}`;
  }

  /** The keys of one partition (`<topic>:<partition>`) in a generation: its next offset, and its dead letters. */
  private partitionKeys(projection: string, generation: number, member: string): { offset: string; dead: string } {
    return { offset: this.dataKey(projection, generation, `offset:${member}`), dead: this.dataKey(projection, generation, `dead:${member}`) };
  }

  /** The set of a generation's partitions that have an offset or dead letters. */
  private partitionsKey(projection: string, generation: number): string {
    return this.dataKey(projection, generation, 'partitions');
  }

  /** Checks a handler's key name, then names the key; the store's own keys go through {@link dataKey}. */
  private userKey(projection: string, generation: number, name: string): string {
    if (typeof name !== 'string' || name.length === 0 || RESERVED_HEADS.has(name.split(':', 1)[0])) throw new ReservedReadModelKeyError(projection, name);
    return this.dataKey(projection, generation, name);
  }

  /** WATCHes a generation's set of partitions on the connection, and lists them. */
  private async watchPartitions(connection: Redis, projection: string, generation: number): Promise<string[]> {
    const set = this.partitionsKey(projection, generation);
    const [members] = await run(connection.pipeline().watch(set).smembers(set), 1);
    return members as string[];
  }

  /** WATCHes `keys` on the connection and reads each with `read`, in one round trip; nothing to do without keys. */
  private async watchAndRead(connection: Redis, keys: readonly string[], read: (pipeline: ChainableCommander, key: string) => void): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const pipeline = connection.pipeline().watch(...keys);
    for (const key of keys) read(pipeline, key);
    return run(pipeline, 1);
  }

  /**
   * Points `shadow` at a generation never used before, unless (`if-absent`)
   * there is a shadow already. Resolves the generation it replaced, if any.
   */
  private async allocateShadow(connection: Redis, projection: string, mode: 'if-absent' | 'replace'): Promise<number | undefined> {
    const live = this.pointerKey(projection, 'live');
    const shadow = this.pointerKey(projection, 'shadow');
    const counter = `${this.base(projection)}:generation`;
    for (let attempt = 1; ; attempt += 1) {
      const [liveText, shadowText, counterText] = await run(connection.pipeline().watch(live, shadow, counter).get(live).get(shadow).get(counter), 1);
      const previous = generationOf('shadow', shadowText as string | null);
      if (mode === 'if-absent' && previous !== undefined) {
        await connection.unwatch();
        return undefined;
      }
      const next = Math.max(Number(counterText ?? 0), generationOf('live', liveText as string | null) ?? 1, previous ?? 0) + 1;
      if (await this.execute(connection.multi().set(shadow, String(next)).set(counter, String(next)), projection)) return previous;
      await conflictBackoff(attempt, `create the shadow of '${projection}'`);
    }
  }

  /** Unlinks every key of a generation no pointer names any more. */
  private async deleteGeneration(projection: string, generation: number): Promise<void> {
    const match = `${escapeGlob(this.base(projection))}:g${generation}:*`;
    await this.guard(`delete generation ${generation} of '${projection}'`, async () => {
      for await (const keys of this.client.scanStream({ match, count: 500 })) {
        if ((keys as string[]).length > 0) await this.client.unlink(...(keys as string[]));
      }
    });
  }

  /**
   * Reads, with `read`, a key of every partition of the slot's current
   * generation, as `[<topic>:<partition>, reply]`. The replies come from one
   * MULTI that also reads the pointer and the set of partitions, and count
   * only when neither moved since the previous round: so they are one moment
   * of one generation, never of a generation a swap has just deleted, and no
   * partition that a commit added meanwhile is left out.
   */
  private async readPartitions(
    slot: ReadModelSlot,
    what: string,
    read: (multi: ChainableCommander, keys: { offset: string; dead: string }) => void,
  ): Promise<Array<[string, unknown]>> {
    checkProjection(slot.projection);
    const pointer = this.pointerKey(slot.projection, slot.version);
    return this.guard(`read the ${what} of ${describeSlot(slot)}`, async () => {
      let pointed = await this.client.get(pointer);
      let members: string[] = [];
      for (;;) {
        const generation = generationOf(slot.version, pointed);
        if (generation === undefined) return [];
        const multi = this.client.multi();
        for (const member of members) read(multi, this.partitionKeys(slot.projection, generation, member));
        const replies = await run(multi.smembers(this.partitionsKey(slot.projection, generation)).get(pointer), 0);
        const membersNow = replies[members.length] as string[];
        const pointedNow = replies[members.length + 1] as string | null;
        if (pointedNow === pointed && sameMembers(members, membersNow)) return members.map((member, index) => [member, replies[index]]);
        // Another generation: its set is yet to be read.
        members = pointedNow === pointed ? membersNow : [];
        pointed = pointedNow;
      }
    });
  }

  /**
   * EXECs a transaction: false when a WATCHed key changed (nothing ran), true
   * when it ran. Commands failing inside it leave the others applied, which
   * the caller must hear of.
   */
  private async execute(multi: ChainableCommander, projection: string): Promise<boolean> {
    const results = await multi.exec();
    if (results === null) return false;
    const failures = results.map(([error]) => error).filter((error): error is Error => error !== null);
    if (failures.length > 0) throw new CallerFailure(new PartialReadModelCommitError(projection, failures));
    return true;
  }

  /** Runs `action` on a connection of its own, where its WATCHes cannot mix with another transaction's. */
  private async transaction<T>(operation: string, action: (connection: Redis) => Promise<T>): Promise<T> {
    return this.guard(operation, async () => {
      const connection = this.acquire();
      let clean = false;
      try {
        const result = await action(connection);
        clean = true;
        return result;
      } finally {
        await this.release(connection, clean);
      }
    });
  }

  private acquire(): Redis {
    if (this.closed) throw new CallerFailure(new InvalidOptionError('RedisReadModelStore is closed; make a new one'));
    let connection: Redis | undefined;
    while ((connection = this.idle.pop()) !== undefined && connection.status !== 'ready') connection.disconnect();
    connection ??= this.client.duplicate({
      // A reconnected connection has lost its WATCHes, and an EXEC sent on it would run unguarded: fail instead.
      retryStrategy: () => null,
      reconnectOnError: null,
      autoResendUnfulfilledCommands: false,
      enableAutoPipelining: false,
      lazyConnect: false,
    });
    // Failures reach the commands; without a listener ioredis would log each one as unhandled.
    if (connection.listenerCount('error') === 0) connection.on('error', () => undefined);
    this.busy.add(connection);
    return connection;
  }

  /** Puts a connection back for the next transaction; one that failed mid-way is UNWATCHed first, or closed. */
  private async release(connection: Redis, clean: boolean): Promise<void> {
    this.busy.delete(connection);
    if (!clean && connection.status === 'ready') {
      try {
        await connection.unwatch();
        clean = true;
      } catch {
        clean = false;
      }
    }
    if (this.closed || !clean || connection.status !== 'ready' || this.idle.length >= MAX_IDLE_CONNECTIONS) {
      connection.disconnect();
      return;
    }
    this.idle.push(connection);
  }

  /** Lets errors of the caller's work through unchanged, and turns lost connections into a retriable error. */
  private async guard<T>(operation: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof CallerFailure) throw error.error;
      if (isRedisConnectionError(error)) throw new ReadModelStoreUnavailableError('Redis', operation, (error as Error).message, error);
      throw error;
    }
  }
}

/** Runs the caller's work, marking what it throws as its own. */
async function callerWork<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new CallerFailure(error);
  }
}

/** Runs a pipeline (or MULTI), throwing its first failed command; resolves the results after the first `skip` (WATCH replies). */
async function run(pipeline: ChainableCommander, skip: number): Promise<unknown[]> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('Redis aborted a transaction that WATCHed nothing');
  for (const [error] of results) if (error) throw error;
  return results.slice(skip).map(([, value]) => value);
}

/** Waits a little, longer each time, so writers that collided do not collide again at once; gives up after {@link MAX_ATTEMPTS}. */
async function conflictBackoff(attempt: number, operation: string): Promise<void> {
  if (attempt >= MAX_ATTEMPTS) {
    throw new CallerFailure(new ReadModelStoreUnavailableError('Redis', operation, `other writers changed its keys during each of ${attempt} attempts`));
  }
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
}

/** The generation a pointer names: a missing live pointer means 1, a missing shadow one means no shadow. */
function generationOf(version: ReadModelSlot['version'], text: string | null): number | undefined {
  if (text === null) return version === 'live' ? 1 : undefined;
  const generation = Number(text);
  if (!Number.isSafeInteger(generation) || generation < 1) throw new Error(`Redis read-model pointer of the ${version} version holds ${JSON.stringify(text)}, not a generation number`);
  return generation;
}

/** A partition as named in keys and in the set of partitions: `<topic>:<partition>`. */
function partitionMember(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** `<topic>:<partition>`; Kafka topic names cannot hold a colon, but read from the end anyway. */
function parseMember(member: string): { topic: string; partition: number } {
  const at = member.lastIndexOf(':');
  return { topic: member.slice(0, at), partition: Number(member.slice(at + 1)) };
}

function deadLetterField(entry: DeadLetterEntry): string {
  return `${entry.topic}:${entry.partition}:${entry.offset}`;
}

/** The dead letters of a partition's hash (field the offset, value the aggregate). */
function deadLettersOf(member: string, hash: Record<string, string>): DeadLetterEntry[] {
  const { topic, partition } = parseMember(member);
  return Object.entries(hash).map(([offset, aggregate]) => ({ topic, partition, offset, aggregate }));
}

/** The offsets read for `members` (replies of GET, in order), by member; a partition with dead letters only has none. */
function offsetsByMember(members: readonly string[], replies: readonly unknown[]): Map<string, string> {
  const offsets = new Map<string, string>();
  members.forEach((member, index) => {
    if (replies[index] !== null) offsets.set(member, replies[index] as string);
  });
  return offsets;
}

function sameOffsets(read: readonly PartitionOffset[], now: ReadonlyMap<string, string>): boolean {
  return now.size === read.length && read.every((offset) => now.get(partitionMember(offset.topic, offset.partition)) === offset.nextOffset);
}

/** Whether two replies of SMEMBERS (in any order) hold the same members. */
function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === b.length && b.every((member) => set.has(member));
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}

function checkProjection(projection: string): void {
  if (typeof projection !== 'string' || projection.length === 0) throw new InvalidOptionError(`A projection name must be a non-empty string, got ${JSON.stringify(projection)}`);
}

function describeSlot(slot: ReadModelSlot): string {
  return `the ${slot.version} version of '${slot.projection}'`;
}
