/**
 * What a transaction may hold is bounded by the broker's batch size
 * (`message.max.bytes`, 1 MB by default), not by a count of commands: large
 * states could make even a modest batch too large. The processor then commits
 * the batch in parts, down to single commands, and refuses only a command that
 * cannot fit alone; the partition keeps serving.
 */
import { expect } from 'chai';
import { Aggregate, AggregateId, AggregateRoot, Apply, Command, CommandHandler, Event, TargetAggregateId } from '@tributary/core';
import { CommandProcessor, CommandTooLargeError, KafkaCommandBus, partitionForKey } from '@tributary/kafka';
import { kafkaBrokers, uniqueName } from '../../../test-support/integration';

@Event('LargeTest.Filled')
class Filled {
  constructor(readonly data: string) {}
}

@Command('LargeTest.Fill')
class Fill {
  @TargetAggregateId() readonly blobId: string;
  constructor(
    blobId: string,
    readonly size: number,
  ) {
    this.blobId = blobId;
  }
}

/** An aggregate whose state is as large as its last event: each command writes its size twice (event and state). */
@Aggregate('LargeTest.Blob')
class Blob extends AggregateRoot {
  @AggregateId() id = '';
  data = '';

  @CommandHandler(Fill) static fill(command: Fill): Blob {
    const blob = new Blob();
    blob.id = command.blobId;
    blob.apply(new Filled('x'.repeat(command.size)));
    return blob;
  }

  @Apply(Filled) filled(event: Filled): void {
    this.data = event.data;
  }
}

describe('Commands whose records are large', function () {
  this.timeout(120_000);

  it('commit in parts when a batch is too large for one transaction, and refuse only a command too large alone', async () => {
    const partitions = 2;
    const options = { app: uniqueName('large'), brokers: kafkaBrokers(), partitions, aggregates: [Blob] };
    const processor = new CommandProcessor({ ...options, stopOnSignals: false });
    const aborted: string[] = [];
    processor.on('processor.transaction-aborted', ({ error }) => aborted.push((error as Error & { brokerErrorType?: string }).brokerErrorType ?? error.name));
    await processor.start();
    const bus = new KafkaCommandBus(options);
    await bus.start();
    try {
      const onPartitionZero: string[] = [];
      for (let candidate = 0; onPartitionZero.length < 7; candidate += 1) if (partitionForKey(`blob-${candidate}`, partitions) === 0) onPartitionZero.push(`blob-${candidate}`);
      // Six commands of ~300 KB each (event and state: ~600 KB written each), sent together: far over 1 MB as one batch.
      const results = await Promise.all(onPartitionZero.slice(0, 6).map((id) => bus.execute(new Fill(id, 300_000))));
      expect(results.map((result) => result.version)).to.deep.equal([1, 1, 1, 1, 1, 1]);
      for (const id of onPartitionZero.slice(0, 6)) expect((await bus.load(Blob, id)).data.length).to.equal(300_000);

      // One command that cannot fit even alone (over 1 MB of event, and as much state) is refused, and the partition goes on.
      const refused = await bus.execute(new Fill(onPartitionZero[6], 1_200_000)).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(CommandTooLargeError).and.include({ code: 'COMMAND_TOO_LARGE' });
      expect(await bus.load(Blob, onPartitionZero[6]).catch((error: unknown) => (error as Error).name)).to.equal('AggregateNotFoundError');
      expect((await bus.execute(new Fill(onPartitionZero[6], 10))).version).to.equal(1);
      expect(aborted.length, 'the batches the broker refused were aborted and split').to.be.greaterThan(0);
    } finally {
      await bus.stop();
      await processor.stop();
    }
  });
});
