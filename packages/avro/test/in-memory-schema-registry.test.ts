import { InMemorySchemaRegistry } from '@tributary/avro';
import { schemaRegistryContract } from './support/schema-registry-contract';

schemaRegistryContract('InMemorySchemaRegistry', () => new InMemorySchemaRegistry());
