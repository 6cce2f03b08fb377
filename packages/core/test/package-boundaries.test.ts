import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

// Core must stay usable without any adapter: the Kafka, schema, and database
// packages depend on core, never the other way round.
const adapters = ['kafkajs', '@kafkajs/', 'avsc', 'pg', 'ioredis', '@tributary/kafka', '@tributary/avro', '@tributary/postgres', '@tributary/redis'];
const coreRoot = join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('@tributary/core package boundaries', () => {
  it('imports no adapter library in its sources', () => {
    const offenders = sourceFiles(join(coreRoot, 'src')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'|require\('([^']+)'\)/g)]
        .map((match) => match[1] ?? match[2])
        .filter((specifier) => adapters.some((adapter) => specifier === adapter || specifier.startsWith(adapter.endsWith('/') ? adapter : `${adapter}/`)))
        .map((specifier) => `${relative(coreRoot, file)} imports ${specifier}`),
    );
    expect(offenders).to.deep.equal([]);
  });

  it('declares no adapter dependency', () => {
    const manifest = JSON.parse(readFileSync(join(coreRoot, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies ?? {})).to.have.members(['class-transformer', 'reflect-metadata']);
  });
});
