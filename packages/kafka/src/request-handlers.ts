import { AggregateNotFoundError, InvalidOptionError, NewEvent, WrongExpectedVersionError, findDecision } from '@tributary/core';
import { KafkaMessage } from 'kafkajs';
import { CommandDecider, DecisionContext, RequestOrigin, parseJson, wholeNumber } from './command-decider';
import { CommandReply, ReplyEvent, replyError } from './command-reply';
import { AggregateSnapshot, exists, stateKey } from './partition-state-store';
import { PartitionStateView, StagedEvent, StagedRequest } from './pending-transaction';
import { HEADER, envelopeHeaders, readHeader } from './record-headers';

/**
 * What the processor serves on the commands topic, named by the `tributary.request`
 * header: commands (no header), and, per stream, `load`, `erase`, `append` (plain
 * streams of the EventStore seam) and `outcome` (what became of a command id).
 */
export type ProcessorRequest = 'command' | 'load' | 'erase' | 'append' | 'outcome';

/**
 * Turns each request read from a command partition into what it writes, a
 * {@link StagedRequest}, against the partition's state as the transaction so
 * far has left it. Pure of Kafka: what it needs comes in, records go out.
 *
 * A request that fails is answered with its error and writes nothing else
 * (except the refusal its aggregate keeps, see {@link CommandDecider}).
 */
export class RequestHandlers {
  private readonly commands: CommandDecider;
  private readonly streamTypes: ReadonlySet<string>;

  constructor(
    private readonly context: DecisionContext,
    streamTypes: Iterable<string>,
  ) {
    this.commands = new CommandDecider(context);
    this.streamTypes = new Set(streamTypes);
  }

  async handle(partition: number, message: KafkaMessage, state: PartitionStateView): Promise<StagedRequest> {
    const origin = this.originOf(partition, message);
    const { commandId } = origin;
    try {
      const request = (readHeader(message.headers, HEADER.request) ?? 'command') as ProcessorRequest;
      return request === 'command' ? await this.commands.decide(origin, state) : await this.stream(request, origin, state);
    } catch (error) {
      return { events: [], snapshots: new Map(), reply: this.reply(origin, { commandId, status: 'error', error: replyError(error) }) };
    }
  }

  /** A request answered with `error` without being decided: it writes nothing but its reply. */
  refuse(partition: number, message: KafkaMessage, error: Error): StagedRequest {
    const origin = this.originOf(partition, message);
    return { events: [], snapshots: new Map(), reply: this.reply(origin, { commandId: origin.commandId, status: 'error', error: replyError(error) }) };
  }

  private originOf(partition: number, message: KafkaMessage): RequestOrigin {
    // Requests without an id (written by hand) get one tied to their place in the log.
    const commandId = readHeader(message.headers, HEADER.commandId) ?? `${this.context.layout.commands}-${partition}-${message.offset}`;
    return { partition, message, commandId, replyTo: readHeader(message.headers, HEADER.replyTo) };
  }

  /**
   * `load` answers with the snapshot; `erase` tombstones every event key and the
   * snapshot; `append` writes events to a plain stream if it is at the expected
   * version; `outcome` answers with the decision kept for a command id.
   */
  private async stream(request: ProcessorRequest, origin: RequestOrigin, state: PartitionStateView): Promise<StagedRequest> {
    const { message, commandId } = origin;
    const streamType = readHeader(message.headers, HEADER.aggregateType) ?? '';
    const streamId = message.key?.toString('utf8') ?? '';
    if (!this.context.domain.modelOfType(streamType) && !this.streamTypes.has(streamType)) {
      throw new InvalidOptionError(`${request} of unknown stream type '${streamType}'; register its aggregate, or list it in the processor's \`streams\``);
    }
    const current = state.current(streamType, streamId);
    const ok = (fields: Partial<Extract<CommandReply, { status: 'ok' }>>): StagedRequest => ({
      events: [],
      snapshots: new Map(),
      reply: this.reply(origin, { commandId, status: 'ok', aggregateType: streamType, aggregateId: streamId, version: exists(current) ? current.version : 0, events: [], ...fields }),
    });
    switch (request) {
      case 'append':
        return this.append(origin, streamType, streamId, current);
      case 'outcome': {
        const asked = readHeader(message.headers, HEADER.queriedCommandId);
        if (asked === undefined) throw new InvalidOptionError(`An outcome request needs the header ${HEADER.queriedCommandId}`);
        return ok({ decision: findDecision(current?.decided, asked) ?? null });
      }
      case 'load':
        if (!exists(current)) throw new AggregateNotFoundError(streamType, streamId);
        return ok({ snapshot: current });
      case 'erase': {
        if (!exists(current)) throw new AggregateNotFoundError(streamType, streamId);
        const events: StagedEvent[] = [];
        for (let sequence = 1; sequence <= current.version; sequence += 1) {
          events.push({ topic: this.context.layout.events(streamType), message: { key: `${streamId}:${sequence}`, partition: origin.partition, value: null } });
        }
        return { events, snapshots: new Map([[stateKey(streamType, streamId), null]]), reply: this.reply(origin, { commandId, status: 'ok', aggregateType: streamType, aggregateId: streamId, version: 0, events: [] }) };
      }
      default:
        throw new InvalidOptionError(`Unknown request '${String(request)}'; this processor serves ${['command', 'load', 'erase', 'append', 'outcome'].join(', ')}`);
    }
  }

  private async append(origin: RequestOrigin, streamType: string, streamId: string, current: AggregateSnapshot | undefined): Promise<StagedRequest> {
    const { message, partition, commandId } = origin;
    if (!this.streamTypes.has(streamType)) {
      throw new InvalidOptionError(`${streamType} is an aggregate: change it with commands, not raw appends`);
    }
    const { layout, serializer } = this.context;
    const expected = wholeNumber(readHeader(message.headers, HEADER.expectedVersion), HEADER.expectedVersion, origin, layout);
    const actual = exists(current) ? current.version : 0;
    if (expected !== actual) throw new WrongExpectedVersionError(streamType, streamId, expected, actual);
    const where = `Append at ${layout.commands}/${partition}@${message.offset}`;
    const body = parseJson(message, where) as unknown;
    if (!Array.isArray(body)) throw new InvalidOptionError(`${where}: the body must be a JSON array of events`);
    const events = body as Array<Omit<NewEvent, 'occurredAt'> & { occurredAt: string }>;
    const topic = layout.events(streamType);
    const key = stateKey(streamType, streamId);
    const staged: StagedEvent[] = [];
    const replyEvents: ReplyEvent[] = [];
    for (const [index, event] of events.entries()) {
      const sequence = actual + index + 1;
      const envelope = { ...event, aggregateType: streamType, aggregateId: streamId, sequence, occurredAt: new Date(event.occurredAt) };
      const value = await serializer.serialize(event.payload, { topic, type: event.type, schemaVersion: event.schemaVersion });
      staged.push({
        topic,
        message: {
          key: `${streamId}:${sequence}`,
          partition,
          value: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
          headers: envelopeHeaders(envelope, serializer.contentType),
        },
        ...(sequence === 1 ? { startsStream: key } : {}),
      });
      replyEvents.push({ eventId: event.eventId, type: event.type, schemaVersion: event.schemaVersion, sequence, occurredAt: event.occurredAt, payload: event.payload });
    }
    const snapshots = new Map<string, AggregateSnapshot | null>();
    if (events.length > 0) {
      snapshots.set(key, {
        version: actual + events.length,
        state: {},
        ...(current?.firstOffset === undefined ? {} : { firstOffset: current.firstOffset }),
      });
    }
    return {
      events: staged,
      snapshots,
      reply: this.reply(origin, { commandId, status: 'ok', aggregateType: streamType, aggregateId: streamId, version: actual + events.length, events: replyEvents }),
    };
  }

  private reply(origin: RequestOrigin, body: CommandReply): StagedRequest['reply'] {
    return origin.replyTo === undefined ? undefined : { to: origin.replyTo, body };
  }
}
