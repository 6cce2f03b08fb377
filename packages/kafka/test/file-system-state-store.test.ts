import * as fs from 'node:fs';
import nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InvalidOptionError } from '@tributary/core';
import { FileSystemPartitionStateStore, MIN_COMPACTION_LINES, partitionStateDirectory } from '../src/file-system-state-store';
import { AggregateSnapshot } from '../src/partition-state-store';

const snapshot = (version: number, balance = version * 10): AggregateSnapshot => ({ version, state: { balance, owner: 'ada\nlovelace' } });

describe('FileSystemPartitionStateStore', () => {
  let directory: string;

  beforeEach(() => {
    directory = fs.mkdtempSync(join(tmpdir(), 'tributary-state-'));
  });

  afterEach(() => {
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const open = (options: { compactionRatio?: number; fsync?: boolean; onError?: (error: Error) => void } = {}) => new FileSystemPartitionStateStore({ directory, ...options });
  const logs = () => fs.readdirSync(directory).filter((name) => name.endsWith('.jsonl'));
  const logPath = () => {
    const names = logs();
    expect(names).to.have.length(1);
    return join(directory, names[0]);
  };
  const contents = (store: FileSystemPartitionStateStore, ids: string[]) => Object.fromEntries(ids.map((id) => [id, store.get('Account', id)]));

  it('starts empty, with nothing persisted, creating its directory', () => {
    fs.rmSync(directory, { recursive: true });
    const store = open();
    expect(fs.statSync(directory).isDirectory()).to.equal(true);
    expect(store.size).to.equal(0);
    expect(store.persistedCheckpoint()).to.equal(undefined);
    expect(store.get('Account', 'a')).to.equal(undefined);
  });

  it('persists committed snapshots and reopens with them and their checkpoint', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.set('Account', 'b', snapshot(2));
    store.set('Order', 'a', { version: 3, state: {}, firstOffset: '42' });
    store.commit('c1');
    expect(store.persistedCheckpoint()).to.equal('c1');
    expect(store.lastError).to.equal(undefined);

    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c1');
    expect(reopened.size).to.equal(3);
    expect(contents(reopened, ['a', 'b'])).to.deep.equal({ a: snapshot(1), b: snapshot(2) });
    expect(reopened.get('Order', 'a')).to.deep.equal({ version: 3, state: {}, firstOffset: '42' });
  });

  it('keeps ids with any characters apart', () => {
    const store = open();
    store.set('Account', 'x\u0000y', snapshot(1));
    store.set('Account', '"\n\\', snapshot(2));
    store.commit('c1');
    const reopened = open();
    expect(reopened.get('Account', 'x\u0000y')).to.deep.equal(snapshot(1));
    expect(reopened.get('Account', '"\n\\')).to.deep.equal(snapshot(2));
  });

  it('keeps deletes across a reopen', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.set('Account', 'b', snapshot(1));
    store.commit('c1');
    store.delete('Account', 'a');
    store.set('Account', 'b', snapshot(2));
    store.commit('c2');

    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c2');
    expect(reopened.size).to.equal(1);
    expect(contents(reopened, ['a', 'b'])).to.deep.equal({ a: undefined, b: snapshot(2) });
    // And across a reopen of the reopened store's own log.
    reopened.delete('Account', 'b');
    reopened.commit('c3');
    const again = open();
    expect(again.size).to.equal(0);
    expect(again.persistedCheckpoint()).to.equal('c3');
  });

  it('persists nothing that was not committed', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    store.set('Account', 'a', snapshot(2));
    store.set('Account', 'b', snapshot(1));
    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c1');
    expect(contents(reopened, ['a', 'b'])).to.deep.equal({ a: snapshot(1), b: undefined });
  });

  it('ignores a torn last line', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    store.set('Account', 'a', snapshot(2));
    store.commit('c2');
    fs.appendFileSync(logPath(), '["Account","a",{"version":3,"sta');

    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c2');
    expect(reopened.get('Account', 'a')).to.deep.equal(snapshot(2));
    // The next owner writes a log of its own, without the torn bytes.
    reopened.set('Account', 'b', snapshot(1));
    reopened.commit('c3');
    expect(fs.readFileSync(logPath(), 'utf8')).not.to.include('"sta\n');
    expect(contents(open(), ['a', 'b'])).to.deep.equal({ a: snapshot(2), b: snapshot(1) });
  });

  it('ignores whole lines written after the last checkpoint (a crash between the log and the checkpoint)', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    fs.appendFileSync(logPath(), `${JSON.stringify(['Account', 'a', snapshot(9)])}\n${JSON.stringify(['Account', 'z', snapshot(9)])}\n`);
    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c1');
    expect(reopened.size).to.equal(1);
    expect(reopened.get('Account', 'a')).to.deep.equal(snapshot(1));
  });

  it('opens empty when the log does not match its checkpoint (a changed byte, a missing or truncated log)', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1, 100));
    store.commit('c1');
    const path = logPath();
    const original = fs.readFileSync(path, 'utf8');

    fs.writeFileSync(path, original.replace('100', '900'));
    expect(open().persistedCheckpoint()).to.equal(undefined);
    expect(open().size).to.equal(0);

    fs.writeFileSync(path, original.slice(0, original.length - 3));
    expect(open().persistedCheckpoint()).to.equal(undefined);

    fs.rmSync(path);
    expect(open().persistedCheckpoint()).to.equal(undefined);
  });

  it('opens empty when the checkpoint file is torn or foreign', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    const checkpoint = join(directory, 'checkpoint.json');
    const original = fs.readFileSync(checkpoint, 'utf8');
    fs.writeFileSync(checkpoint, original.slice(0, 20));
    expect(open().persistedCheckpoint()).to.equal(undefined);
    fs.writeFileSync(checkpoint, JSON.stringify({ ...JSON.parse(original), log: '../elsewhere.jsonl' }));
    expect(open().persistedCheckpoint()).to.equal(undefined);
    fs.writeFileSync(checkpoint, JSON.stringify({ ...JSON.parse(original), format: 2 }));
    expect(open().persistedCheckpoint()).to.equal(undefined);
    fs.writeFileSync(checkpoint, original);
    expect(open().persistedCheckpoint()).to.equal('c1');
  });

  it('replaces the checkpoint atomically: a commit that fails leaves the previous state and checkpoint, never a mix', () => {
    const errors: Error[] = [];
    const store = open({ onError: (error) => errors.push(error) });
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    store.set('Account', 'a', snapshot(2));
    store.set('Account', 'b', snapshot(1));

    // The log append succeeds, then the rename of the new checkpoint fails (as if the process died there).
    const rename = nodeFs.renameSync;
    nodeFs.renameSync = () => {
      throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
    };
    try {
      expect(() => store.commit('c2')).not.to.throw();
    } finally {
      nodeFs.renameSync = rename;
    }
    expect(errors.map((error) => error.message)).to.deep.equal(['EIO: simulated']);
    expect(store.lastError?.message).to.equal('EIO: simulated');
    expect(store.persistedCheckpoint()).to.equal('c1');
    // The memory holds the committed state either way.
    expect(contents(store, ['a', 'b'])).to.deep.equal({ a: snapshot(2), b: snapshot(1) });

    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c1');
    expect(contents(reopened, ['a', 'b'])).to.deep.equal({ a: snapshot(1), b: undefined });

    // The next commit of the failed store writes everything again.
    store.set('Account', 'c', snapshot(1));
    store.commit('c3');
    expect(store.lastError).to.equal(undefined);
    const recovered = open();
    expect(recovered.persistedCheckpoint()).to.equal('c3');
    expect(contents(recovered, ['a', 'b', 'c'])).to.deep.equal({ a: snapshot(2), b: snapshot(1), c: snapshot(1) });
  });

  it('leaves no temporary file behind, and removes those of a crashed writer', () => {
    fs.writeFileSync(join(directory, 'checkpoint.json.0badc0ffee00.tmp'), '{"form');
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    store.commit('c2');
    expect(fs.readdirSync(directory).sort()).to.deep.equal(['checkpoint.json', logs()[0]].sort());
  });

  it('compacts the log when it grows to compactionRatio lines per live snapshot, keeping the content', () => {
    const store = open({ compactionRatio: 4 });
    const ids = Array.from({ length: 10 }, (_, index) => `acc-${index}`);
    const versions = new Map<string, number>();
    let compactions = 0;
    let previous = '';
    for (let round = 1; round <= MIN_COMPACTION_LINES * 2; round += 1) {
      const id = ids[round % ids.length];
      versions.set(id, (versions.get(id) ?? 0) + 1);
      store.set('Account', id, snapshot(versions.get(id)!));
      if (round % 7 === 0) {
        const gone = ids[(round + 3) % ids.length];
        store.delete('Account', gone);
        versions.delete(gone);
      }
      store.commit(`c${round}`);
      const [current] = logs();
      if (previous && current !== previous) compactions += 1;
      previous = current;
      expect(logs()).to.have.length(1);
      const lines = fs.readFileSync(join(directory, current), 'utf8').split('\n').length - 1;
      expect(lines).to.be.at.most(MIN_COMPACTION_LINES);
    }
    expect(compactions).to.be.at.least(1);
    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal(`c${MIN_COMPACTION_LINES * 2}`);
    expect(reopened.size).to.equal(store.size);
    expect(contents(reopened, ids)).to.deep.equal(contents(store, ids));
  });

  it('starts a log of its own on open, so a superseded owner never mixes its writes into the new owner’s', () => {
    const old = open();
    old.set('Account', 'a', snapshot(1));
    old.commit('c1');

    const next = open();
    expect(next.persistedCheckpoint()).to.equal('c1');
    next.set('Account', 'b', snapshot(1));
    next.commit('c2');

    // The old owner, a zombie, finishes a commit after the new one took over.
    old.set('Account', 'a', snapshot(2));
    old.commit('c1b');
    expect(old.lastError).to.equal(undefined);

    // Whatever is persisted is one writer's state at one checkpoint: the zombie's, here.
    const after = open();
    expect(after.persistedCheckpoint()).to.equal('c1b');
    expect(contents(after, ['a', 'b'])).to.deep.equal({ a: snapshot(2), b: undefined });

    next.set('Account', 'c', snapshot(1));
    next.commit('c3');
    const last = open();
    expect(last.persistedCheckpoint()).to.equal('c3');
    expect(contents(last, ['a', 'b', 'c'])).to.deep.equal({ a: snapshot(1), b: snapshot(1), c: snapshot(1) });
    expect(logs()).to.have.length(1);
  });

  it('clear forgets everything, persisted too, until the next commit', () => {
    const store = open();
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    store.clear();
    expect(store.size).to.equal(0);
    expect(store.persistedCheckpoint()).to.equal(undefined);
    expect(open().persistedCheckpoint()).to.equal(undefined);
    store.set('Account', 'b', snapshot(1));
    store.commit('c2');
    const reopened = open();
    expect(reopened.persistedCheckpoint()).to.equal('c2');
    expect(contents(reopened, ['a', 'b'])).to.deep.equal({ a: undefined, b: snapshot(1) });
  });

  it('works with fsync on', () => {
    const store = open({ fsync: true });
    store.set('Account', 'a', snapshot(1));
    store.commit('c1');
    store.set('Account', 'a', snapshot(2));
    store.commit('c2');
    expect(store.lastError).to.equal(undefined);
    expect(open().get('Account', 'a')).to.deep.equal(snapshot(2));
  });

  it('rejects bad options', () => {
    expect(() => new FileSystemPartitionStateStore({ directory: '' })).to.throw(InvalidOptionError);
    expect(() => new FileSystemPartitionStateStore({ directory, compactionRatio: 1 })).to.throw(InvalidOptionError);
  });

  it('names a partition’s directory <stateDirectory>/<app>/<partition>, never outside it', () => {
    expect(partitionStateDirectory('/var/state', 'bank', 3)).to.equal(join('/var/state', 'bank', '3'));
    expect(partitionStateDirectory('/var/state', '..', 0)).to.equal(join('/var/state', '%2E%2E', '0'));
  });
});
