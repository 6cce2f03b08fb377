import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { murmur2, partitionForKey, toPositive } from '../src/murmur2';

interface Vector {
  key: string;
  utf8Length: number;
  murmur2: number;
  partitions: Record<string, number>;
}

// Produced by test/java/generate-murmur2-vectors.sh from the real Java client; regenerate
// there rather than editing, so the expectations never come from our own implementation.
const vectorFile = JSON.parse(readFileSync(join(__dirname, 'murmur2-vectors.json'), 'utf8')) as {
  kafkaClientsVersion: string;
  vectors: Vector[];
};
const utf8 = (key: string) => Buffer.from(key, 'utf8');

describe('murmur2', () => {
  describe(`vectors from kafka-clients ${vectorFile.kafkaClientsVersion}`, () => {
    it('covers every tail length, multi-byte UTF-8 and long keys', () => {
      const vectors = vectorFile.vectors;
      // Guards against the file silently shrinking to something that tests nothing.
      expect([...new Set(vectors.map((v) => v.utf8Length % 4))].sort()).to.deep.equal([0, 1, 2, 3]);
      expect(vectors.some((v) => v.utf8Length > v.key.length)).to.equal(true);
      expect(Math.max(...vectors.map((v) => v.utf8Length))).to.be.greaterThan(1000);
    });

    for (const vector of vectorFile.vectors) {
      const label = JSON.stringify(vector.key.length > 40 ? `${vector.key.slice(0, 40)}…` : vector.key);
      it(`matches Java for ${label}`, () => {
        const bytes = utf8(vector.key);
        expect(bytes.length, 'UTF-8 length').to.equal(vector.utf8Length);
        expect(murmur2(bytes), 'murmur2').to.equal(vector.murmur2);
        for (const [count, partition] of Object.entries(vector.partitions)) {
          expect(partitionForKey(vector.key, Number(count)), `partition of ${count}`).to.equal(partition);
        }
      });
    }
  });

  it("matches Kafka's own UtilsTest.testMurmur2 cases", () => {
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, expected] of cases) expect(murmur2(utf8(key)), key).to.equal(expected);
  });

  it('returns signed 32-bit integers, like a Java int', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const hash = murmur2(bytes);
        expect(Number.isInteger(hash)).to.equal(true);
        expect(hash).to.be.within(-(2 ** 31), 2 ** 31 - 1);
      }),
    );
  });

  it('hashes a view of a larger buffer by its own bytes only', () => {
    // Buffer.from(string) often slices a shared pool, so offset views must not leak neighbours.
    const backing = Buffer.from('xxorder-1yy', 'utf8');
    expect(murmur2(backing.subarray(2, 9))).to.equal(murmur2(utf8('order-1')));
  });
});

describe('toPositive', () => {
  it('masks the sign bit rather than taking the absolute value', () => {
    expect(toPositive(0)).to.equal(0);
    expect(toPositive(42)).to.equal(42);
    expect(toPositive(-1)).to.equal(0x7fffffff);
    expect(toPositive(-(2 ** 31))).to.equal(0);
    expect(toPositive(2 ** 31 - 1)).to.equal(2 ** 31 - 1);
  });
});

describe('partitionForKey', () => {
  it('is always within [0, n) and deterministic for any unicode key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 1, max: 10_000 }), (key, n) => {
        const partition = partitionForKey(key, n);
        expect(Number.isInteger(partition)).to.equal(true);
        expect(partition).to.be.within(0, n - 1);
        expect(partitionForKey(key, n)).to.equal(partition);
        expect(partitionForKey(key.slice(), n)).to.equal(partition);
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with kafkajs's DefaultPartitioner, the producer that writes our records", () => {
    // kafkajs hashes through its own Long-based port; agreeing on random input means a
    // partition we compute up front is the one kafkajs would have chosen for the same key.
    const partitioner = Partitioners.DefaultPartitioner();
    const pick = (key: string, n: number) => {
      const partitionMetadata = Array.from({ length: n }, (_, partitionId) => ({
        partitionId,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
      }));
      const args: PartitionerArgs = { topic: 't', partitionMetadata, message: { key, value: null } };
      return partitioner(args);
    };
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer({ min: 1, max: 200 }), (key, n) => {
        expect(partitionForKey(key, n)).to.equal(pick(key, n));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes an unpaired surrogate as U+FFFD, the bytes Node puts on the wire', () => {
    // Java's String.getBytes(UTF_8) would write '?' here; what counts is the bytes actually
    // sent, which a Java consumer or partitioner would hash the same way we do.
    expect(murmur2(utf8('\ud800'))).to.equal(murmur2(Uint8Array.of(0xef, 0xbf, 0xbd)));
    expect(partitionForKey('\ud800', 12)).to.equal(partitionForKey('\ufffd', 12));
  });

  it('rejects partition counts that are not positive integers', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => partitionForKey('order-1', bad), String(bad))
        .to.throw(RangeError)
        .with.property('message')
        .that.includes(String(bad));
    }
  });
});
