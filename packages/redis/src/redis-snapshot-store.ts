import { checkSnapshotToSave, CorruptSnapshotCallback, CorruptSnapshotError, InvalidOptionError, Snapshot, snapshotFromJson, SnapshotQuery, SnapshotStore, snapshotToJson, warnOfCorruptSnapshot } from '@tributary/core';
import Redis from 'ioredis';

/** Options of {@link RedisSnapshotStore}. */
export interface RedisSnapshotStoreOptions {
  /**
   * An ioredis client the caller owns (and quits), or a `redis://…` URL, from
   * which the store makes a client of its own that {@link RedisSnapshotStore.close} quits.
   */
  readonly connection: Redis | string;
  /** Starts every key the store writes. Defaults to `tributary:snapshot:`. */
  readonly prefix?: string;
  /** Told of each stored snapshot that cannot be read; it is then loaded as undefined. Defaults to a `console.warn` line. */
  readonly onCorrupt?: CorruptSnapshotCallback;
}

/**
 * Saves `ARGV[1]` (the snapshot's JSON) unless the key holds a newer version.
 * The kept version is read from the start of its JSON (`{"version":N,`,
 * written first by snapshotToJson), so a save never decodes a large state.
 * A damaged record keeps the version it starts with, when that is readable,
 * and is replaced by a save at that version or above; one without a readable
 * version, or a key of another Redis type, is replaced by any save.
 */
const SAVE_SCRIPT = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'string' then
  local kept = string.match(redis.call('GET', KEYS[1]), '^{"version":(%d+)[,}]')
  if kept and tonumber(kept) > tonumber(ARGV[2]) then return 0 end
elseif kind ~= 'none' then
  redis.call('DEL', KEYS[1])
end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`;

const SAVE_COMMAND = 'tributarySaveSnapshot';

type ClientWithSave = Redis & { [SAVE_COMMAND](key: string, json: string, version: string): Promise<number> };

/**
 * A {@link SnapshotStore} on Redis: one key per aggregate,
 * `<prefix><aggregateType>:<aggregateId>` (the type URI-encoded, so no two
 * type and id pairs share a key), holding the newest snapshot as JSON. A save
 * is one Lua script that compares versions and then writes, so racing writers
 * (processes included) end with the highest version. A bounded load is
 * undefined when the newest snapshot is outside the bounds.
 *
 * Keys have no expiry: set a `maxmemory-policy` such as `allkeys-lru` to let
 * Redis drop snapshots under memory pressure; a lost snapshot only costs a
 * longer load.
 *
 * @example
 * ```ts
 * const snapshots = new RedisSnapshotStore({ connection: 'redis://localhost:6379' });
 * const orders = new Rehydrator({ aggregate: Order, eventStore, snapshots });
 * // …
 * await snapshots.close();
 * ```
 */
export class RedisSnapshotStore implements SnapshotStore {
  readonly prefix: string;
  private readonly redis: ClientWithSave;
  private readonly ownsClient: boolean;
  private readonly onCorrupt: CorruptSnapshotCallback;

  constructor(options: RedisSnapshotStoreOptions) {
    if (!options || typeof options !== 'object') {
      throw new InvalidOptionError("RedisSnapshotStore needs options: { connection: <ioredis client or 'redis://…' URL> }");
    }
    const { connection } = options;
    let client: Redis;
    if (typeof connection === 'string') {
      if (connection.length === 0) throw new InvalidOptionError('RedisSnapshotStore option connection must be a non-empty redis:// URL or an ioredis client');
      client = new Redis(connection, { lazyConnect: true });
      this.ownsClient = true;
    } else if (connection && typeof (connection as Redis).defineCommand === 'function') {
      client = connection;
      this.ownsClient = false;
    } else {
      throw new InvalidOptionError("RedisSnapshotStore option connection must be an ioredis client or a 'redis://…' URL");
    }
    const prefix = options.prefix ?? 'tributary:snapshot:';
    if (typeof prefix !== 'string') throw new InvalidOptionError(`RedisSnapshotStore option prefix must be a string, got ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
    // ioredis runs it by EVALSHA, loading the script again when the server has forgotten it.
    client.defineCommand(SAVE_COMMAND, { numberOfKeys: 1, lua: SAVE_SCRIPT });
    this.redis = client as ClientWithSave;
    this.onCorrupt = options.onCorrupt ?? warnOfCorruptSnapshot;
  }

  /** The key an aggregate's snapshot is kept under. */
  keyOf(aggregateType: string, aggregateId: string): string {
    return `${this.prefix}${encodeURIComponent(aggregateType)}:${aggregateId}`;
  }

  async save(snapshot: Snapshot): Promise<void> {
    checkSnapshotToSave(snapshot, 'RedisSnapshotStore');
    await this.redis[SAVE_COMMAND](this.keyOf(snapshot.aggregateType, snapshot.aggregateId), snapshotToJson(snapshot), String(snapshot.version));
  }

  async load(aggregateType: string, aggregateId: string, query: SnapshotQuery = {}): Promise<Snapshot | undefined> {
    const key = this.keyOf(aggregateType, aggregateId);
    let text: string | null;
    try {
      text = await this.redis.get(key);
    } catch (error) {
      if (!/^WRONGTYPE/.test((error as Error).message ?? '')) throw error;
      return this.corrupt(new CorruptSnapshotError(aggregateType, aggregateId, 'the key is not a Redis string', this.where(key), error));
    }
    if (text === null) return undefined;
    let snapshot: Snapshot;
    try {
      snapshot = snapshotFromJson(text, aggregateType, aggregateId, this.where(key));
    } catch (error) {
      if (error instanceof CorruptSnapshotError) return this.corrupt(error);
      throw error;
    }
    if (query.maxVersion !== undefined && snapshot.version > query.maxVersion) return undefined;
    if (query.asOf !== undefined && snapshot.occurredAt.getTime() > query.asOf.getTime()) return undefined;
    return snapshot;
  }

  async delete(aggregateType: string, aggregateId: string): Promise<void> {
    await this.redis.del(this.keyOf(aggregateType, aggregateId));
  }

  /** Quits the client the store made from a URL; a client passed in is left to its owner. */
  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit();
  }

  private corrupt(error: CorruptSnapshotError): undefined {
    this.onCorrupt(error, error.aggregateType, error.aggregateId);
    return undefined;
  }

  private where(key: string): string {
    return `Redis key ${JSON.stringify(key)}`;
  }
}
