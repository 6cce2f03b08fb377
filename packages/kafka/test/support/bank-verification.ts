/**
 * Verification helpers shared by the racing-writers and crash-recovery tests:
 * read a topic to its end, compute the SERIAL result of the commands topic with
 * a plain model of the bank, and compare what the processors wrote (events,
 * outcomes seen by callers, loaded state) with that model.
 *
 * Why a serial model is the oracle: a command partition has exactly one writer
 * at a time, which decides the partition's commands in offset order (resuming
 * from its checkpoint after a crash or takeover, redoing aborted work in the
 * same order from the same state). So whatever processes raced or died, the
 * committed outcome must equal applying each partition's commands, in offset
 * order, to a model with the same no-overdraft rule.
 */
import { expect } from 'chai';
import { HEADER, KafkaCommandBus, partitionForKey } from '@tributary/kafka';
import { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { uniqueName } from '../../../../test-support/integration';
import { Account, Deposit, OpenAccount } from './account';

/** A record with the partition it came from. */
export type TopicRecord = KafkaMessage & { partition: number };

/** One header as a string (kafkajs gives a Buffer, or an array when a key repeats). */
export function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? undefined : Buffer.isBuffer(last) ? last.toString('utf8') : String(last);
}

/**
 * Every record of every partition of `topic`, from its start up to the end
 * offsets taken when called, ordered by partition then offset.
 *
 * Unlike `readMessages` it needs no idea of how many records to expect, which is
 * what is being verified: it stops when the fetch position of each partition has
 * passed its end offset. Batches that hold only aborted records or transaction
 * markers never reach `eachBatch`, but kafkajs reports how far they got in
 * END_BATCH_PROCESS, so read_committed reads finish too. Call it only when no
 * transaction is open on the topic (read_committed stops at the first open one).
 */
export async function readToEnd(kafka: Kafka, topic: string, options: { readUncommitted?: boolean; timeoutMs?: number } = {}): Promise<TopicRecord[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const admin = kafka.admin();
  await admin.connect();
  const groupId = uniqueName('verify');
  const consumer = kafka.consumer({ groupId, readUncommitted: options.readUncommitted ?? false, maxWaitTimeInMs: 50 });
  const records: TopicRecord[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const targets = new Map<number, bigint>();
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(high) > BigInt(low)) targets.set(partition, BigInt(high) - 1n);
    }
    if (targets.size === 0) return [];
    const reached = new Map<number, bigint>();
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const progress = (partition: number, offset: string) => {
      if (BigInt(offset) > (reached.get(partition) ?? -1n)) reached.set(partition, BigInt(offset));
      if ([...targets].every(([p, end]) => (reached.get(p) ?? -1n) >= end)) finish();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => progress(payload.partition, payload.lastOffset));
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const end = targets.get(batch.partition);
        for (const message of batch.messages) {
          if (end !== undefined && BigInt(message.offset) <= end) records.push({ ...message, partition: batch.partition });
        }
      },
    });
    await Promise.race([
      done,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const where = [...targets].map(([p, end]) => `p${p}: ${reached.get(p) ?? 'nothing'} of ${end}`).join(', ');
          reject(new Error(`Reading ${topic} (${options.readUncommitted ? 'read_uncommitted' : 'read_committed'}) did not reach its end in ${timeoutMs} ms (${where}); is a transaction still open?`));
        }, timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  // Duplicates are possible if a fetch was repeated around the stop; keep the first of each offset.
  const unique = new Map(records.map((record) => [`${record.partition}@${record.offset}`, record]));
  return [...unique.values()].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}

/** Opens each account and pays in a first deposit, so a workload can run on them. */
export async function openAccounts(bus: KafkaCommandBus, ids: readonly string[], initialDeposit: number): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      await bus.execute(new OpenAccount(id, `owner-of-${id}`), { commandId: `open-${id}` });
      await bus.execute(new Deposit(id, initialDeposit), { commandId: `first-deposit-${id}` });
    }),
  );
}

/** Balance and version of each account as its owner holds it (the load goes through the commands topic, so it also drains it). */
export async function loadAccounts(bus: KafkaCommandBus, ids: readonly string[]): Promise<Map<string, { balance: number; version: number }>> {
  const loaded = await Promise.all(ids.map(async (id) => [id, await bus.load(Account, id)] as const));
  return new Map(loaded.map(([id, account]) => [id, { balance: account.balance, version: account.version }]));
}

// ---------------------------------------------------------------------------
// The serial model
// ---------------------------------------------------------------------------

export interface ModelEvent {
  readonly sequence: number;
  readonly type: string;
  readonly amount?: number;
  readonly causationId: string;
}

export type ModelOutcome = 'accepted' | 'refused' | 'not-found' | 'already-exists';

export interface ModelCommand {
  readonly commandId: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly accountId: string;
  readonly type: string;
  readonly outcome: ModelOutcome;
  readonly events: readonly ModelEvent[];
}

export interface ModelAccount {
  balance: number;
  version: number;
  readonly events: ModelEvent[];
}

export interface BankModel {
  readonly partitions: number;
  readonly accounts: Map<string, ModelAccount>;
  /** Every command of the commands topic (not `load` requests), by command id. */
  readonly commands: Map<string, ModelCommand>;
}

/**
 * Applies each partition's commands, in offset order, to a plain model of the
 * bank with the same rules as the Account aggregate.
 */
export function serialModel(commandRecords: readonly TopicRecord[], partitions: number): BankModel {
  const accounts = new Map<string, ModelAccount>();
  const commands = new Map<string, ModelCommand>();
  const ordered = [...commandRecords].sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
  for (const record of ordered) {
    const request = header(record.headers, HEADER.request) ?? 'command';
    if (request !== 'command') continue; // load requests change nothing
    const commandId = header(record.headers, HEADER.commandId);
    const type = header(record.headers, HEADER.commandType);
    if (!commandId || !type) throw new Error(`command at ${record.partition}@${record.offset} has no command id or type header`);
    if (commands.has(commandId)) throw new Error(`command id ${commandId} is twice in the commands topic; the model assumes unique ids`);
    if (header(record.headers, HEADER.expectedVersion) !== undefined) throw new Error('the model does not handle expected versions');
    const data = JSON.parse(record.value!.toString('utf8')) as { accountId: string; amount?: number; owner?: string };
    const accountId = data.accountId;
    if (partitionForKey(accountId, partitions) !== record.partition) {
      throw new Error(`command ${commandId} for ${accountId} sits on partition ${record.partition}, not its murmur2 partition`);
    }
    const account = accounts.get(accountId);
    let outcome: ModelOutcome;
    let event: Omit<ModelEvent, 'sequence' | 'causationId'> | undefined;
    if (type === 'KafkaTest.OpenAccount') {
      outcome = account ? 'already-exists' : 'accepted';
      if (!account) event = { type: 'KafkaTest.AccountOpened' };
    } else if (!account) {
      outcome = 'not-found';
    } else if (type === 'KafkaTest.Deposit') {
      outcome = 'accepted';
      event = { type: 'KafkaTest.Deposited', amount: data.amount };
    } else if (type === 'KafkaTest.Withdraw') {
      // The no-overdraft rule, as in Account.withdraw.
      outcome = data.amount! > account.balance ? 'refused' : 'accepted';
      if (outcome === 'accepted') event = { type: 'KafkaTest.Withdrawn', amount: data.amount };
    } else {
      throw new Error(`the model does not know command type ${type}`);
    }
    const events: ModelEvent[] = [];
    if (event) {
      const target = account ?? { balance: 0, version: 0, events: [] };
      accounts.set(accountId, target);
      const applied: ModelEvent = { ...event, sequence: target.version + 1, causationId: commandId };
      target.version += 1;
      if (event.type === 'KafkaTest.Deposited') target.balance += event.amount!;
      if (event.type === 'KafkaTest.Withdrawn') target.balance -= event.amount!;
      target.events.push(applied);
      events.push(applied);
    }
    commands.set(commandId, { commandId, partition: record.partition, offset: BigInt(record.offset), accountId, type, outcome, events });
  }
  return { partitions, accounts, commands };
}

/** Counts of the model's outcomes, for logs and sanity checks. */
export function outcomeCounts(model: BankModel): Record<ModelOutcome, number> {
  const counts: Record<ModelOutcome, number> = { accepted: 0, refused: 0, 'not-found': 0, 'already-exists': 0 };
  for (const command of model.commands.values()) counts[command.outcome] += 1;
  return counts;
}

// ---------------------------------------------------------------------------
// Comparisons with the model. Each returns a list of problems (empty = fine),
// so a failure shows every account or command that is wrong, not just the first.
// ---------------------------------------------------------------------------

/**
 * The committed events topic against the model:
 * - per account, sequences 1..n in offset order, no gap, no duplicate, on the account's partition,
 *   key `<id>:<sequence>`, each event the one the model decided (type, amount, causing command);
 * - per causation id (= command id), exactly the events the model gives the command: all of an
 *   accepted command's events, with consecutive sequences, once; none for a refused one.
 */
export function eventLogProblems(model: BankModel, committedEvents: readonly TopicRecord[]): string[] {
  const problems: string[] = [];
  const byAccount = new Map<string, TopicRecord[]>();
  const byCausation = new Map<string, TopicRecord[]>();
  for (const record of committedEvents) {
    if (record.value === null) continue; // tombstones: none expected here, no erasure in these tests
    const accountId = header(record.headers, HEADER.aggregateId) ?? '(no aggregate id)';
    const causationId = header(record.headers, HEADER.causationId) ?? '(no causation id)';
    byAccount.set(accountId, [...(byAccount.get(accountId) ?? []), record]);
    byCausation.set(causationId, [...(byCausation.get(causationId) ?? []), record]);
  }

  for (const accountId of new Set([...model.accounts.keys(), ...byAccount.keys()])) {
    const expected = model.accounts.get(accountId)?.events ?? [];
    const actual = byAccount.get(accountId) ?? [];
    const sequences = actual.map((record) => Number(header(record.headers, HEADER.sequence)));
    const contiguous = sequences.every((sequence, index) => sequence === index + 1);
    if (!contiguous || sequences.length !== expected.length) {
      problems.push(`${accountId}: sequences ${summarize(sequences)}, expected 1..${expected.length} with no gap or duplicate`);
    }
    for (const record of actual) {
      if (record.partition !== partitionForKey(accountId, model.partitions)) problems.push(`${accountId}: event at ${record.partition}@${record.offset} is off its partition`);
      const sequence = header(record.headers, HEADER.sequence);
      if (record.key?.toString('utf8') !== `${accountId}:${sequence}`) problems.push(`${accountId}: event at ${record.partition}@${record.offset} has key ${record.key}`);
    }
    for (let index = 0; index < Math.min(actual.length, expected.length); index += 1) {
      const got = describeEvent(actual[index]);
      const want = expected[index];
      if (got.sequence !== want.sequence || got.type !== want.type || got.amount !== want.amount || got.causationId !== want.causationId) {
        problems.push(`${accountId}: event #${index + 1} is ${JSON.stringify(got)}, the serial model gives ${JSON.stringify(want)}`);
        break; // later events of this account differ too; one line per account is enough
      }
    }
  }

  for (const [causationId, records] of byCausation) {
    const command = model.commands.get(causationId);
    const expectedCount = command?.events.length ?? 0;
    if (records.length !== expectedCount) {
      problems.push(
        `command ${causationId} (${command ? `${command.type}, ${command.outcome} by the model` : 'not in the commands topic'}) has ${records.length} committed event(s), expected ${expectedCount}`,
      );
    }
    const sequences = records.map((record) => Number(header(record.headers, HEADER.sequence)));
    if (sequences.some((sequence, index) => index > 0 && sequence !== sequences[index - 1] + 1)) {
      problems.push(`command ${causationId}: its events' sequences ${summarize(sequences)} are not consecutive`);
    }
  }
  for (const command of model.commands.values()) {
    if (command.events.length > 0 && !byCausation.has(command.commandId)) {
      problems.push(`command ${command.commandId} (${command.type} on ${command.accountId}, accepted by the model) has no committed event`);
    }
  }
  return problems;
}

/** What a caller saw for one command: 'ok', 'refused' (InsufficientFunds), 'unknown' (timed out) or 'error:<Name>'. */
export interface SeenOutcome {
  readonly commandId: string;
  readonly outcome: string;
}

/**
 * The outcomes callers saw against the model: an acknowledged ('ok') command
 * must be accepted by the model (so its events must be committed, see
 * eventLogProblems), a 'refused' one refused by the no-overdraft rule. Timed-out
 * commands ('unknown') may have gone either way. Any other error is a problem.
 */
export function outcomeProblems(model: BankModel, seen: readonly SeenOutcome[]): string[] {
  const problems: string[] = [];
  for (const { commandId, outcome } of seen) {
    const command = model.commands.get(commandId);
    if (outcome === 'unknown') continue;
    if (!command) problems.push(`command ${commandId} was answered '${outcome}' but is not in the commands topic`);
    else if (outcome === 'ok' && command.outcome !== 'accepted') problems.push(`command ${commandId} was acknowledged, but the serial model says ${command.outcome}`);
    else if (outcome === 'refused' && command.outcome !== 'refused') problems.push(`command ${commandId} was refused, but the serial model says ${command.outcome}`);
    else if (outcome !== 'ok' && outcome !== 'refused') problems.push(`command ${commandId} failed with ${outcome}`);
  }
  return problems;
}

/** Loaded balances and versions against the model. */
export function stateProblems(model: BankModel, loaded: ReadonlyMap<string, { balance: number; version: number }>): string[] {
  const problems: string[] = [];
  for (const [accountId, state] of loaded) {
    const expected = model.accounts.get(accountId);
    if (!expected) problems.push(`${accountId} loaded as ${JSON.stringify(state)} but the model never opened it`);
    else if (state.balance !== expected.balance || state.version !== expected.version) {
      problems.push(`${accountId} loaded as balance ${state.balance} v${state.version}; serial result: balance ${expected.balance} v${expected.version}`);
    }
  }
  return problems;
}

/** Fails with (the first 25 of) the problems, if any. */
export function expectNoProblems(problems: readonly string[], what: string): void {
  expect(problems.slice(0, 25), `${problems.length} problem(s) with ${what}`).to.deep.equal([]);
}

/** Records of `uncommitted` (read_uncommitted) that `committed` (read_committed) does not hold: aborted ones. */
export function abortedRecords(uncommitted: readonly TopicRecord[], committed: readonly TopicRecord[]): TopicRecord[] {
  const visible = new Set(committed.map((record) => `${record.partition}@${record.offset}`));
  return uncommitted.filter((record) => !visible.has(`${record.partition}@${record.offset}`));
}

function describeEvent(record: TopicRecord): ModelEvent {
  const payload = JSON.parse(record.value!.toString('utf8')) as { amount?: number };
  return {
    sequence: Number(header(record.headers, HEADER.sequence)),
    type: header(record.headers, HEADER.type) ?? '(no type)',
    ...(payload.amount === undefined ? {} : { amount: payload.amount }),
    causationId: header(record.headers, HEADER.causationId) ?? '(no causation id)',
  };
}

/** `1..57` style summary of a sequence list, with the oddities spelled out. */
function summarize(sequences: readonly number[]): string {
  if (sequences.length === 0) return '(none)';
  const parts: string[] = [];
  let start = sequences[0];
  let previous = sequences[0];
  for (const sequence of [...sequences.slice(1), NaN]) {
    if (sequence === previous + 1) {
      previous = sequence;
      continue;
    }
    parts.push(start === previous ? `${start}` : `${start}..${previous}`);
    start = previous = sequence;
  }
  return parts.join(',');
}
