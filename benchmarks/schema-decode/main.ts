/**
 * Decode throughput of the one read pipeline (decode → resolve → upcast), in
 * records/s, for JSON and Avro, with and without an upcaster, beside two
 * baselines taken in the same run: `JSON.parse` of the same JSON bytes, and
 * avsc's own `fromBuffer` of the same Avro bytes. No broker: this measures the
 * CPU cost per record that every reader (rehydration, projections, sagas) pays.
 *
 * `npm run bench -- schema-decode` (BENCH_RECORDS, default 200 000; BENCH_ROUNDS, default 5).
 */
import { EventRegistry, EventPipeline, JsonSerializer, SerializationContext, Serializer } from '@tributary/core';
import { AvroSchemaCatalog, AvroSerializer, InMemorySchemaRegistry } from '@tributary/avro';
import { ALL_EVENT_CLASSES, STAGE_3_UPCASTERS } from '../../packages/avro/test/support/order-history';

const RECORDS = Number(process.env.BENCH_RECORDS ?? '200000');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? '5');
const TOPIC = 'bench.Shop.Order.events';
const DISTINCT = 1000;

interface Scenario {
  readonly name: string;
  /** One round: decodes every record and returns how many events came out. */
  readonly run: () => Promise<number> | number;
  readonly bytesPerRecord: number;
}

interface Result {
  readonly name: string;
  readonly recordsPerSecond: number;
  readonly bytesPerRecord: number;
  readonly nsPerRecord: number;
}

function payloadV3(index: number) {
  return {
    orderId: `order-${String(index).padStart(8, '0')}-1f0e6a6c-4b7e-4c1e-9a55`,
    customerId: `customer-${index % 9973}-with-a-realistically-long-reference-of-the-crm`,
    channel: index % 3 === 0 ? 'web' : index % 3 === 1 ? 'store' : 'phone-orders-and-partner-integrations',
  };
}

function payloadV2(index: number) {
  const { customerId, ...rest } = payloadV3(index);
  return { ...rest, customer: customerId };
}

async function encodeAll(serializer: Serializer, type: string, version: number, make: (index: number) => object): Promise<Uint8Array[]> {
  const distinct: Uint8Array[] = [];
  for (let index = 0; index < DISTINCT; index += 1) {
    distinct.push(await serializer.serialize(make(index) as never, { topic: TOPIC, type, schemaVersion: version }));
  }
  return Array.from({ length: RECORDS }, (_, index) => distinct[index % DISTINCT]);
}

async function measure(scenario: Scenario): Promise<Result> {
  await scenario.run(); // warm-up: caches, JIT
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = process.hrtime.bigint();
    const events = await scenario.run();
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    if (events < RECORDS) throw new Error(`${scenario.name} decoded ${events} of ${RECORDS} records`);
    best = Math.min(best, elapsed);
  }
  return {
    name: scenario.name,
    recordsPerSecond: Math.round(RECORDS / best),
    bytesPerRecord: scenario.bytesPerRecord,
    nsPerRecord: Math.round((best * 1e9) / RECORDS),
  };
}

async function decodeAll(pipeline: EventPipeline, records: readonly Uint8Array[], type: string, schemaVersion: number): Promise<number> {
  let events = 0;
  for (let offset = 0; offset < records.length; offset += 1) {
    const context: SerializationContext = { topic: TOPIC, partition: 0, offset: String(offset), type, schemaVersion };
    events += (await pipeline.decode(records[offset], context)).length;
  }
  return events;
}

async function main(): Promise<void> {
  const registry = new EventRegistry(ALL_EVENT_CLASSES);
  const json = new JsonSerializer();
  const schemaRegistry = new InMemorySchemaRegistry();
  const avro = new AvroSerializer({ registry: schemaRegistry, events: ALL_EVENT_CLASSES });
  const pipelines = {
    json: new EventPipeline({ registry, serializer: json, upcasters: STAGE_3_UPCASTERS }),
    avro: new EventPipeline({ registry, serializer: avro, upcasters: STAGE_3_UPCASTERS }),
  };
  const v3 = { type: 'Shop.OrderCreated', version: 3 };
  const v2 = { type: 'Shop.OrderCreated', version: 2 };
  const jsonV3 = await encodeAll(json, v3.type, v3.version, payloadV3);
  const jsonV2 = await encodeAll(json, v2.type, v2.version, payloadV2);
  // In the order history was written: the registry takes v2, then v3.
  const avroV2 = await encodeAll(avro, v2.type, v2.version, payloadV2);
  const avroV3 = await encodeAll(avro, v3.type, v3.version, payloadV3);
  const avroType = new AvroSchemaCatalog(ALL_EVENT_CLASSES).schemaFor(v3.type, v3.version)!;

  const scenarios: Scenario[] = [
    {
      name: 'baseline: JSON.parse',
      bytesPerRecord: jsonV3[0].length,
      run: () => {
        let parsed = 0;
        for (const bytes of jsonV3) if (JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))) parsed += 1;
        return parsed;
      },
    },
    {
      name: 'baseline: avsc fromBuffer',
      bytesPerRecord: avroV3[0].length,
      run: () => {
        let decoded = 0;
        // Skips the 5-byte Confluent header, as a hand-written consumer would.
        for (const bytes of avroV3) if (avroType.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset + 5, bytes.byteLength - 5))) decoded += 1;
        return decoded;
      },
    },
    { name: 'json', bytesPerRecord: jsonV3[0].length, run: () => decodeAll(pipelines.json, jsonV3, v3.type, v3.version) },
    { name: 'json + upcaster (v2 → v3)', bytesPerRecord: jsonV2[0].length, run: () => decodeAll(pipelines.json, jsonV2, v2.type, v2.version) },
    { name: 'avro', bytesPerRecord: avroV3[0].length, run: () => decodeAll(pipelines.avro, avroV3, v3.type, v3.version) },
    { name: 'avro + upcaster (v2 → v3)', bytesPerRecord: avroV2[0].length, run: () => decodeAll(pipelines.avro, avroV2, v2.type, v2.version) },
  ];

  const results: Result[] = [];
  for (const scenario of scenarios) results.push(await measure(scenario));
  const rate = (name: string) => results.find((result) => result.name === name)!.recordsPerSecond;
  const report = {
    benchmark: 'schema-decode',
    node: process.version,
    records: RECORDS,
    rounds: ROUNDS,
    results: results.map((result) => ({
      ...result,
      ratioToJsonParse: +(result.recordsPerSecond / rate('baseline: JSON.parse')).toFixed(3),
      ratioToAvsc: +(result.recordsPerSecond / rate('baseline: avsc fromBuffer')).toFixed(3),
    })),
  };
  console.log(JSON.stringify(report, null, 2));
  console.log('\n| scenario | records/s | ns/record | bytes | × JSON.parse | × avsc |\n| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const result of report.results) {
    console.log(`| ${result.name} | ${result.recordsPerSecond.toLocaleString('en')} | ${result.nsPerRecord} | ${result.bytesPerRecord} | ${result.ratioToJsonParse} | ${result.ratioToAvsc} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
