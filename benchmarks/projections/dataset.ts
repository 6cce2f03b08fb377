/**
 * The projections benchmark's events: the replay benchmark's JSON dataset
 * (its `Bench.Order` events, written by its `ensureDataset` in the
 * CommandProcessor's record format), in a topic of this benchmark's own app,
 * and the order summaries a correct, exactly-once projection of it must hold.
 */
import { TopicLayout } from '@tributary/kafka';
import { DatasetSpec, aggregateId, eventCounts, eventOf } from '../replay/dataset';
import { AGGREGATE_TYPE } from '../replay/domain';

/** The dataset of N events over M aggregates in P partitions: JSON payloads, current event versions. */
export function projectionsDataset(events: number, aggregates: number, partitions: number): DatasetSpec {
  // The name says what is in it, so a kept topic (BENCH_KEEP=1) is reused only for the same numbers.
  const app = `bench-projections-${events}-${aggregates}-p${partitions}`;
  return { format: 'json', app, topic: new TopicLayout({ app, partitions }).events(AGGREGATE_TYPE), events, aggregates, partitions };
}

/** One row of the order-summary read model, whatever the store. */
export interface OrderSummary {
  readonly customerId: string;
  readonly channel: string;
  readonly status: 'open' | 'shipped';
  readonly carrier: string;
  /** Events handled for the order: a duplicate would show here. */
  readonly events: number;
  /** `Bench.ItemAdded` events. */
  readonly itemsAdded: number;
  /** `Bench.ItemRemoved` events. */
  readonly itemsRemoved: number;
  /** Sum of the quantities added. */
  readonly quantity: number;
  /** Sum of quantity × unit price added, in cents. */
  readonly totalCents: number;
  readonly lastSequence: number;
}

/** What the events hold, in total, to check a read model's sums against. */
export interface DatasetTotals {
  readonly orders: number;
  readonly events: number;
  readonly itemsAdded: number;
  readonly itemsRemoved: number;
  readonly shipped: number;
}

/** The oracle: every order's summary, folded from the same generator that wrote the events. */
export function expectedSummaries(spec: DatasetSpec): { rows: Map<string, OrderSummary>; totals: DatasetTotals } {
  const counts = eventCounts(spec.events, spec.aggregates);
  const rows = new Map<string, OrderSummary>();
  let itemsAdded = 0;
  let itemsRemoved = 0;
  let shipped = 0;
  for (let index = 0; index < spec.aggregates; index += 1) {
    let row: OrderSummary = { customerId: '', channel: '', status: 'open', carrier: '', events: 0, itemsAdded: 0, itemsRemoved: 0, quantity: 0, totalCents: 0, lastSequence: 0 };
    for (let sequence = 1; sequence <= counts[index]; sequence += 1) {
      const { type, payload } = eventOf(spec.format, index, sequence, counts[index]);
      const data = payload as Record<string, unknown>;
      row = { ...row, events: row.events + 1, lastSequence: sequence };
      if (type === 'Bench.OrderPlaced') row = { ...row, customerId: data.customerId as string, channel: data.channel as string };
      else if (type === 'Bench.ItemAdded') {
        const quantity = data.quantity as number;
        row = { ...row, itemsAdded: row.itemsAdded + 1, quantity: row.quantity + quantity, totalCents: row.totalCents + quantity * (data.unitPriceCents as number) };
        itemsAdded += 1;
      } else if (type === 'Bench.ItemRemoved') {
        row = { ...row, itemsRemoved: row.itemsRemoved + 1 };
        itemsRemoved += 1;
      } else if (type === 'Bench.OrderShipped') {
        row = { ...row, status: 'shipped', carrier: data.carrier as string };
        shipped += 1;
      }
    }
    rows.set(aggregateId(index), row);
  }
  return { rows, totals: { orders: rows.size, events: spec.events, itemsAdded, itemsRemoved, shipped } };
}

/** How a read model compares with the oracle. `correct` only when every row matches. */
export interface Verification {
  readonly correct: boolean;
  readonly rows: number;
  readonly missingRows: number;
  readonly extraRows: number;
  readonly wrongRows: number;
  /** Sums over the read model, beside what the events hold. */
  readonly sums: { events: number; itemsAdded: number; itemsRemoved: number; shipped: number };
  readonly expected: DatasetTotals;
  /** A few wrong rows, to see what went wrong. */
  readonly examples: Array<{ order: string; got: OrderSummary | null; expected: OrderSummary | null }>;
}

/** Compares every row of a read model with the oracle. */
export function verify(actual: ReadonlyMap<string, OrderSummary>, expected: { rows: Map<string, OrderSummary>; totals: DatasetTotals }): Verification {
  let missingRows = 0;
  let wrongRows = 0;
  const examples: Verification['examples'] = [];
  for (const [order, want] of expected.rows) {
    const got = actual.get(order);
    if (!got) missingRows += 1;
    else if (!sameSummary(got, want)) wrongRows += 1;
    else continue;
    if (examples.length < 3) examples.push({ order, got: got ?? null, expected: want });
  }
  let extraRows = 0;
  const sums = { events: 0, itemsAdded: 0, itemsRemoved: 0, shipped: 0 };
  for (const [order, row] of actual) {
    if (!expected.rows.has(order)) extraRows += 1;
    sums.events += row.events;
    sums.itemsAdded += row.itemsAdded;
    sums.itemsRemoved += row.itemsRemoved;
    if (row.status === 'shipped') sums.shipped += 1;
  }
  const totals = expected.totals;
  const sumsMatch = sums.events === totals.events && sums.itemsAdded === totals.itemsAdded && sums.itemsRemoved === totals.itemsRemoved && sums.shipped === totals.shipped;
  return {
    correct: missingRows === 0 && extraRows === 0 && wrongRows === 0 && sumsMatch,
    rows: actual.size,
    missingRows,
    extraRows,
    wrongRows,
    sums,
    expected: totals,
    examples,
  };
}

function sameSummary(a: OrderSummary, b: OrderSummary): boolean {
  return (
    a.customerId === b.customerId &&
    a.channel === b.channel &&
    a.status === b.status &&
    a.carrier === b.carrier &&
    a.events === b.events &&
    a.itemsAdded === b.itemsAdded &&
    a.itemsRemoved === b.itemsRemoved &&
    a.quantity === b.quantity &&
    a.totalCents === b.totalCents &&
    a.lastSequence === b.lastSequence
  );
}
