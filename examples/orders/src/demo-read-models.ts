import { ReadModelStore } from '@tributary/core';
import { PostgresReadModelStore } from '@tributary/postgres';
import { ProjectionSource } from '@tributary/projections';
import { RedisReadModelStore } from '@tributary/redis';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { customerOrdersProjection, readCustomerOrders } from './customer-orders.projection';
import { ORDER_SUMMARY_TABLES, OrderSummaryProjection, createOrderSummaryTables, readOrderSummary } from './order-summary.projection';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** The demo must not hang on a database that is not there. */
const CONNECT_TIMEOUT_MS = 2_000;

/** A projection with the store it writes to. */
export interface DemoProjection {
  readonly projection: ProjectionSource<unknown>;
  readonly store: ReadModelStore<unknown>;
}

interface PostgresTarget {
  readonly pool: Pool;
  readonly store: PostgresReadModelStore;
  readonly schema: string;
}

interface RedisTarget {
  readonly redis: Redis;
  readonly store: RedisReadModelStore;
  readonly prefix: string;
}

/**
 * The demo's two read models: order-summary in PostgreSQL (DATABASE_URL) and
 * customer-orders in Redis (REDIS_URL), each only if its server answers. Each
 * run writes under names of its own (a schema, a key prefix) and removes them
 * on {@link close}, so runs never meet.
 */
export class DemoReadModels {
  private constructor(
    private readonly postgres: PostgresTarget | undefined,
    private readonly redis: RedisTarget | undefined,
    private readonly missing: string[],
  ) {}

  /** Connects to what answers within a couple of seconds and prepares the run's tables and stores. */
  static async open(runId: string): Promise<DemoReadModels> {
    const name = runId.toLowerCase().replace(/[^a-z0-9]/g, '_');
    const databaseUrl = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
    const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL;
    const [postgres, redis] = await Promise.all([openPostgres(databaseUrl, `orders_demo_${name}`), openRedis(redisUrl, `orders-demo:${name}`)]);
    const missing = [...(postgres ? [] : [`PostgreSQL at ${redact(databaseUrl)} (DATABASE_URL)`]), ...(redis ? [] : [`Redis at ${redact(redisUrl)} (REDIS_URL)`])];
    return new DemoReadModels(postgres, redis, missing);
  }

  /** The projections whose server answered, each with its store. */
  get projections(): DemoProjection[] {
    const projections: DemoProjection[] = [];
    if (this.postgres) projections.push({ projection: OrderSummaryProjection, store: this.postgres.store });
    if (this.redis) projections.push({ projection: customerOrdersProjection, store: this.redis.store });
    return projections;
  }

  /** Where the read models live, for the demo's heading. */
  describe(): string {
    return [this.postgres && `PostgreSQL schema ${this.postgres.schema}`, this.redis && `Redis keys ${this.redis.prefix}:*`].filter(Boolean).join(', ');
  }

  /** Prints the order's summary and the customer's orders, and says which read model was skipped and how to get it. */
  async print(orderId: string, customerId: string): Promise<void> {
    if (this.missing.length === 2) {
      console.log(`\nRead models skipped: no ${this.missing.join(', no ')}; start them or set those variables to see order-summary and customer-orders`);
      return;
    }
    console.log(`\nRead models (${this.describe()})`);
    if (this.postgres) {
      const summary = await readOrderSummary(this.postgres.pool, this.postgres.store, orderId);
      console.log(
        summary
          ? `  order-summary    ${summary.orderId}: ${summary.customerId}, ${summary.status}, ${summary.itemCount} item(s), ${summary.totalCents} cents, updated ${summary.updatedAt.toISOString()}`
          : `  order-summary    ${orderId}: no row`,
      );
    }
    if (this.redis) {
      const orders = await readCustomerOrders(this.redis.redis, this.redis.store, customerId);
      console.log(`  customer-orders  ${customerId}: ${orders.map((order) => `${order.orderId} (${order.totalCents} cents)`).join(', ') || 'no orders'}`);
    }
    for (const missing of this.missing) console.log(`  skipped: no ${missing}; start it or set the variable to see it`);
  }

  /** Removes the run's schema and keys, and disconnects. */
  async close(): Promise<void> {
    if (this.postgres) {
      const { pool, store, schema } = this.postgres;
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await pool.end();
    }
    if (this.redis) {
      const { redis, store, prefix } = this.redis;
      await store.close();
      await deleteKeys(redis, `${prefix}:*`).catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    }
  }
}

async function openPostgres(url: string, schema: string): Promise<PostgresTarget | undefined> {
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, max: 4 });
  // An idle connection the server drops must not crash the demo.
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch {
    await pool.end().catch(() => undefined);
    return undefined;
  }
  await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await createOrderSummaryTables(pool, schema);
  return { pool, store: new PostgresReadModelStore({ pool, tables: ORDER_SUMMARY_TABLES, schema }), schema };
}

async function openRedis(url: string, prefix: string): Promise<RedisTarget | undefined> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // Without a listener ioredis prints every connection error as unhandled.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    redis.disconnect();
    return undefined;
  }
  return { redis, store: new RedisReadModelStore({ client: redis, prefix }), prefix };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The URL without its password, for printing. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}
