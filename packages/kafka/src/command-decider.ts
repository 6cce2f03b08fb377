import { randomUUID } from 'node:crypto';
import {
  AggregateAlreadyExistsError,
  AggregateNotFoundError,
  AggregateRoot,
  CommandIdConflictError,
  CommandRegistry,
  DomainModel,
  MissingCommandHandlerError,
  MissingTargetAggregateIdError,
  Serializer,
  WrongExpectedVersionError,
  commandFingerprint,
  failureDecides,
  findDecision,
  rememberDecision,
} from '@tributary/core';
import { KafkaMessage } from 'kafkajs';
import { ReplyEvent, replyError } from './command-reply';
import { MalformedRequestError } from './errors/processor.errors';
import { AggregateSnapshot, DecidedCommand, exists, stateKey } from './partition-state-store';
import { PartitionStateView, StagedEvent, StagedRequest } from './pending-transaction';
import { HEADER, envelopeHeaders, readHeader, readMetadata } from './record-headers';
import { TopicLayout } from './topic-layout';

/** What deciding requests needs to know of the app. */
export interface DecisionContext {
  readonly layout: TopicLayout;
  readonly domain: DomainModel;
  readonly commands: CommandRegistry;
  readonly serializer: Serializer;
  /** The shape version of each aggregate type's state (`shapeVersionOf`), recorded in its snapshots. */
  readonly shapes: ReadonlyMap<string, string>;
  /** How many decided command ids each aggregate keeps. */
  readonly decidedCommandsPerAggregate: number;
}

/** Where a request came from, and who waits for its reply. */
export interface RequestOrigin {
  readonly partition: number;
  readonly message: KafkaMessage;
  readonly commandId: string;
  readonly replyTo?: string;
}

/**
 * Decides one command against the state of its aggregate, without touching
 * Kafka: it runs the handler and returns everything the command writes (its
 * events serialized, the aggregate's new snapshot with the decision kept, the
 * reply) as one {@link StagedRequest}, or throws having staged nothing.
 *
 * A command whose id the aggregate has already decided is answered with that
 * decision and decides nothing; the same id with another command (type or
 * data) is refused with {@link CommandIdConflictError}. A refusal (a domain error, an aggregate that
 * does not or already exists, an expected version that does not hold) is a
 * decision too and is kept; a retriable failure (a schema registry that is
 * down) is not, so a retry decides anew.
 */
export class CommandDecider {
  constructor(private readonly context: DecisionContext) {}

  async decide(origin: RequestOrigin, state: PartitionStateView): Promise<StagedRequest> {
    const { message, partition, commandId } = origin;
    const { domain, commands, layout } = this.context;
    const where = `Command at ${layout.commands}/${partition}@${message.offset}`;
    const commandType = readHeader(message.headers, HEADER.commandType) ?? '(no command type header)';
    const command = commands.fromData(commandType, parseJson(message, where), where);
    const fingerprint = commandFingerprint(commandType, message.value);
    const route = domain.route(command);
    if (!route) throw new MissingCommandHandlerError(command.constructor.name);
    const { model, binding } = route;
    const aggregateId = model.targetIdOf(command, binding);
    if (aggregateId === undefined) throw new MissingTargetAggregateIdError(command.constructor.name, `${model.target.name}.${binding.method}`);

    const current = state.current(model.type, aggregateId);
    const kept = findDecision(current?.decided, commandId);
    if (kept) {
      if (kept.fingerprint !== undefined && kept.fingerprint !== fingerprint) throw new CommandIdConflictError(commandId, model.type, aggregateId);
      return this.repeat(origin, model.type, aggregateId, kept);
    }
    try {
      return await this.decideAnew(origin, command, route, aggregateId, current, fingerprint);
    } catch (error) {
      if (!failureDecides(error) || this.context.decidedCommandsPerAggregate === 0) throw error;
      const refused = replyError(error);
      // An aggregate that does not exist keeps its refusals in a record of version 0.
      const record: AggregateSnapshot = current ?? { version: 0, state: {} };
      return {
        events: [],
        snapshots: new Map([[stateKey(model.type, aggregateId), this.remember(record, { id: commandId, error: refused, fingerprint })]]),
        reply: origin.replyTo === undefined ? undefined : { to: origin.replyTo, body: { commandId, status: 'error', error: refused } },
      };
    }
  }

  private async decideAnew(
    origin: RequestOrigin,
    command: object,
    { model, binding }: NonNullable<ReturnType<DomainModel['route']>>,
    aggregateId: string,
    current: AggregateSnapshot | undefined,
    fingerprint: string,
  ): Promise<StagedRequest> {
    const { message, partition, commandId } = origin;
    const existing = exists(current) ? current : undefined;
    const expected = readHeader(message.headers, HEADER.expectedVersion);
    if (expected !== undefined) {
      const expectedVersion = wholeNumber(expected, HEADER.expectedVersion, origin, this.context.layout);
      if (expectedVersion !== (existing?.version ?? 0)) throw new WrongExpectedVersionError(model.type, aggregateId, expectedVersion, existing?.version ?? 0);
    }

    let aggregate: AggregateRoot;
    if (binding.creates) {
      if (existing) throw new AggregateAlreadyExistsError(model.type, aggregateId);
      // Refuses an aggregate created under another id than the command's target.
      aggregate = await model.create(command, binding);
    } else {
      if (!existing) throw new AggregateNotFoundError(model.type, aggregateId);
      aggregate = model.fromSnapshot(existing.state, existing.version);
      await model.handle(aggregate, command, binding);
    }

    const base = existing?.version ?? 0;
    const events = aggregate.getUncommittedEvents();
    const correlationId = readHeader(message.headers, HEADER.correlationId) ?? commandId;
    const metadata = readMetadata(message.headers);
    const occurredAt = new Date();
    const topic = this.context.layout.events(model.type);
    const key = stateKey(model.type, aggregateId);
    const staged: StagedEvent[] = [];
    const replyEvents: ReplyEvent[] = [];
    // Every event is serialized before anything is staged: one that fails leaves the whole command out.
    for (const [index, event] of events.entries()) {
      const declared = this.context.domain.eventRegistry.describe(event)!;
      const sequence = base + index + 1;
      const envelope = {
        eventId: randomUUID(),
        type: declared.type,
        schemaVersion: declared.version,
        aggregateType: model.type,
        aggregateId,
        sequence,
        occurredAt,
        correlationId,
        causationId: commandId,
        metadata,
      };
      const payload = this.context.domain.eventRegistry.toData(event);
      const value = await this.context.serializer.serialize(payload, { topic, type: envelope.type, schemaVersion: envelope.schemaVersion });
      staged.push({
        topic,
        message: {
          key: `${aggregateId}:${sequence}`,
          partition,
          value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
          headers: envelopeHeaders(envelope, this.context.serializer.contentType),
        },
        ...(sequence === 1 ? { startsStream: key } : {}),
      });
      replyEvents.push({ eventId: envelope.eventId, type: envelope.type, schemaVersion: envelope.schemaVersion, sequence, occurredAt: occurredAt.toISOString(), payload });
    }

    const version = base + events.length;
    const decision: DecidedCommand = { id: commandId, version, events: events.length, fingerprint };
    const snapshots = new Map<string, AggregateSnapshot | null>();
    if (events.length > 0) {
      const next: AggregateSnapshot = {
        version,
        state: model.toSnapshot(aggregate),
        shape: this.context.shapes.get(model.type),
        ...(existing?.firstOffset === undefined ? {} : { firstOffset: existing.firstOffset }),
        ...(current?.decided === undefined ? {} : { decided: current.decided }),
      };
      snapshots.set(key, this.remember(next, decision));
    } else if (this.context.decidedCommandsPerAggregate > 0) {
      // Nothing changed, but the command is decided: keep that.
      snapshots.set(key, this.remember(current ?? { version: 0, state: {} }, decision));
    }
    return {
      events: staged,
      snapshots,
      reply:
        origin.replyTo === undefined
          ? undefined
          : { to: origin.replyTo, body: { commandId, status: 'ok', aggregateType: model.type, aggregateId, version, events: replyEvents } },
    };
  }

  /** The answer to a command id decided before: its outcome again, and nothing written but the reply. */
  private repeat(origin: RequestOrigin, aggregateType: string, aggregateId: string, kept: DecidedCommand): StagedRequest {
    const { commandId, replyTo } = origin;
    return {
      events: [],
      snapshots: new Map(),
      reply:
        replyTo === undefined
          ? undefined
          : {
              to: replyTo,
              body:
                'error' in kept
                  ? { commandId, status: 'error', error: kept.error }
                  : { commandId, status: 'ok', aggregateType, aggregateId, version: kept.version, events: [], deduplicated: true },
            },
    };
  }

  private remember(record: AggregateSnapshot, decision: DecidedCommand): AggregateSnapshot {
    const limit = this.context.decidedCommandsPerAggregate;
    if (limit === 0) return record;
    return { ...record, decided: rememberDecision(record.decided, decision, limit) };
  }
}

/** The request's JSON body. */
export function parseJson(message: KafkaMessage, where: string): Record<string, unknown> {
  const text = message.value?.toString('utf8');
  if (text === undefined) return {};
  try {
    return (JSON.parse(text) as Record<string, unknown> | null) ?? {};
  } catch (error) {
    throw new MalformedRequestError(where, `its body is not JSON (${(error as Error).message})`);
  }
}

/** A header holding a whole number of 0 or more, e.g. an expected version. */
export function wholeNumber(text: string | undefined, header: string, origin: RequestOrigin, layout: TopicLayout): number {
  const value = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    const where = `Request at ${layout.commands}/${origin.partition}@${origin.message.offset}`;
    throw new MalformedRequestError(where, `header ${header} is ${text === undefined ? 'missing' : JSON.stringify(text)}; it must be a whole number of 0 or more`);
  }
  return value;
}
