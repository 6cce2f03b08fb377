/**
 * Starts a command processor that cannot start (FAIL_AT=provision: its
 * commands topic has the wrong partition count; FAIL_AT=prepare: its
 * serializer refuses at start-up), reports the error, and returns. Nothing else
 * keeps this process alive: if the failed start left a Kafka client open, it
 * never exits.
 */
import { JsonSerializer } from '@tributary/core';
import { CommandProcessor } from '@tributary/kafka';
import { Account } from './account';

class RefusingSerializer extends JsonSerializer {
  async prepare(): Promise<void> {
    throw new Error('this serializer refuses to start');
  }
}

async function main(): Promise<void> {
  const processor = new CommandProcessor({
    app: process.env.TRIBUTARY_APP!,
    brokers: process.env.KAFKA_BROKERS!.split(','),
    aggregates: [Account],
    partitions: 3,
    ...(process.env.FAIL_AT === 'prepare' ? { serializer: new RefusingSerializer() } : {}),
  });
  try {
    await processor.start();
    process.stdout.write(`${JSON.stringify({ event: 'started', pid: process.pid })}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ event: 'start-failed', pid: process.pid, code: (error as { code?: string }).code, message: (error as Error).message })}\n`);
  }
}

void main();
