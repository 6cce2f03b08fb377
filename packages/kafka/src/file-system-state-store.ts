import { Hash, createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { InvalidOptionError } from '@tributary/core';
import { AggregateSnapshot, PartitionStateStore, splitKey, stateKey } from './partition-state-store';

/** Options of {@link FileSystemPartitionStateStore}. */
export interface FileSystemPartitionStateStoreOptions {
  /** The directory of this one partition's state (for one app); created if missing. */
  readonly directory: string;
  /**
   * fsync the log, the checkpoint file and the directory on every commit, so the
   * last commit survives power loss too. Defaults to false: every commit survives
   * a crash of the process; after a crash of the machine the checksum catches
   * anything lost or torn and the partition is restored from the topics.
   */
  readonly fsync?: boolean;
  /**
   * Rewrite the log once it holds this many lines per live snapshot (and more
   * than {@link MIN_COMPACTION_LINES} lines). Defaults to 4.
   */
  readonly compactionRatio?: number;
  /** Told of each I/O failure; `commit` never throws (the state stays in memory). */
  readonly onError?: (error: Error) => void;
}

/** Logs shorter than this are never compacted. */
export const MIN_COMPACTION_LINES = 1024;

const CHECKPOINT_FILE = 'checkpoint.json';
const LOG_FILE = /^snapshots-[0-9a-z]+-[0-9a-f]+-[0-9]+\.jsonl$/;
const TEMP_FILE = /^checkpoint\.json\.[0-9a-f]+\.tmp$/;
const FORMAT = 1;

/** The commit point: which bytes of which log hold the state of which checkpoint. Written by rename, so atomically. */
interface CheckpointFile {
  readonly format: typeof FORMAT;
  /** What the store was given at commit. */
  readonly checkpoint: string;
  /** The log file, in the same directory. */
  readonly log: string;
  /** Length of the log prefix holding the state; anything after it is ignored. */
  readonly bytes: number;
  /** SHA-256 of that prefix, hex. */
  readonly sha256: string;
  /** Live snapshots in that state. */
  readonly entries: number;
}

interface OwnLog {
  readonly name: string;
  bytes: number;
  lines: number;
  /** Running SHA-256 of everything written. */
  readonly hash: Hash;
}

/**
 * A {@link PartitionStateStore} kept on local disk, so a processor that gets a
 * partition back after a restart need not read the snapshots topics again (the
 * processor still checks that the persisted checkpoint is the one in Kafka).
 * Everything is held in memory too; reads never touch the disk.
 *
 * Files in `directory`:
 * - `snapshots-*.jsonl`: an append-only log, one JSON line per change
 *   (`[type, id, snapshot]` or `[type, id]` for a delete). Each store instance
 *   writes a log of its own, starting with every live snapshot, and starts a new
 *   one (compaction) when the log grows to `compactionRatio` lines per live snapshot.
 * - `checkpoint.json`: the commit point. It names the log, the length of its
 *   prefix that holds the state, that prefix's SHA-256 and the checkpoint the
 *   state reflects. Written to a temporary file and renamed, so it is replaced
 *   atomically. Bytes after the prefix (a torn last line, the changes of a
 *   commit whose checkpoint was never written) are ignored.
 *
 * Opening reads the checkpoint file and its log prefix; if anything is missing,
 * torn or fails the checksum the store opens empty, with no persisted checkpoint,
 * and the processor restores it from the topics. Because an instance only ever
 * appends to its own log, a superseded owner of the directory (a zombie still
 * finishing a commit) can never interleave its writes with the new owner's; the
 * most it can do is leave an older, self-consistent checkpoint, which then does
 * not match Kafka's.
 *
 * File calls are synchronous: they run after each Kafka commit on the
 * partition's processing path (tens of microseconds per commit without fsync).
 */
export class FileSystemPartitionStateStore implements PartitionStateStore {
  readonly directory: string;
  /** The last I/O failure, cleared by the next successful commit. */
  lastError: Error | undefined;
  private readonly fsync: boolean;
  private readonly compactionRatio: number;
  private readonly onError?: (error: Error) => void;
  private readonly instance = randomBytes(6).toString('hex');
  private snapshots = new Map<string, AggregateSnapshot>();
  /** Changes since the last commit: the latest value of each key, `null` for a delete. */
  private readonly pending = new Map<string, AggregateSnapshot | null>();
  private persisted: string | undefined;
  /** The log this instance writes; none before its first commit, after a failure or after `clear`. */
  private log: OwnLog | undefined;
  private logs = 0;

  constructor(options: FileSystemPartitionStateStoreOptions) {
    if (!options || typeof options.directory !== 'string' || options.directory.length === 0) {
      throw new InvalidOptionError('FileSystemPartitionStateStore needs options: { directory } with a non-empty directory path');
    }
    const compactionRatio = options.compactionRatio ?? 4;
    if (typeof compactionRatio !== 'number' || !(compactionRatio >= 2)) {
      throw new InvalidOptionError(`FileSystemPartitionStateStore option compactionRatio must be a number of at least 2, got ${compactionRatio}`);
    }
    this.directory = options.directory;
    this.fsync = options.fsync ?? false;
    this.compactionRatio = compactionRatio;
    this.onError = options.onError;
    // A directory that cannot be created is a configuration error: fail loudly.
    fs.mkdirSync(this.directory, { recursive: true });
    this.open();
  }

  get size(): number {
    return this.snapshots.size;
  }

  *entries(): Iterable<[string, string, AggregateSnapshot]> {
    for (const [name, snapshot] of this.snapshots) yield [...splitKey(name), snapshot];
  }

  get(aggregateType: string, aggregateId: string): AggregateSnapshot | undefined {
    return this.snapshots.get(stateKey(aggregateType, aggregateId));
  }

  set(aggregateType: string, aggregateId: string, snapshot: AggregateSnapshot): void {
    const name = stateKey(aggregateType, aggregateId);
    this.snapshots.set(name, snapshot);
    this.pending.set(name, snapshot);
  }

  delete(aggregateType: string, aggregateId: string): void {
    const name = stateKey(aggregateType, aggregateId);
    this.snapshots.delete(name);
    this.pending.set(name, null);
  }

  persistedCheckpoint(): string | undefined {
    return this.persisted;
  }

  /**
   * Appends the changes since the last commit to this instance's log, then
   * replaces the checkpoint file. Never throws: on failure the state stays in
   * memory, the persisted checkpoint stays behind, and the next commit writes a
   * new log with the whole state.
   */
  commit(checkpoint: string): void {
    try {
      const lines = (this.log?.lines ?? 0) + this.pending.size;
      if (!this.log || lines > Math.max(this.compactionRatio * this.snapshots.size, MIN_COMPACTION_LINES)) {
        this.rewrite(checkpoint);
      } else {
        try {
          this.append(this.log, checkpoint);
        } catch {
          // The log is gone (a later owner of the directory removed it) or in an unknown state: start a new one.
          this.rewrite(checkpoint);
        }
      }
      this.lastError = undefined;
    } catch (error) {
      this.log = undefined;
      this.lastError = error instanceof Error ? error : new Error(String(error));
      this.onError?.(this.lastError);
    }
  }

  /** Forgets every snapshot, and removes the checkpoint file so nothing persisted is used until the next commit. */
  clear(): void {
    this.snapshots.clear();
    this.pending.clear();
    this.persisted = undefined;
    this.log = undefined;
    try {
      fs.rmSync(join(this.directory, CHECKPOINT_FILE), { force: true });
    } catch (error) {
      // A checkpoint left behind belongs to other state: it will not match Kafka's.
      this.lastError = error instanceof Error ? error : new Error(String(error));
      this.onError?.(this.lastError);
    }
  }

  private open(): void {
    let file: CheckpointFile;
    let data: Buffer;
    try {
      file = JSON.parse(fs.readFileSync(join(this.directory, CHECKPOINT_FILE), 'utf8')) as CheckpointFile;
      if (!isCheckpointFile(file)) return;
      data = fs.readFileSync(join(this.directory, file.log));
    } catch {
      return; // Nothing (usable) persisted.
    }
    if (data.length < file.bytes) return;
    const prefix = data.subarray(0, file.bytes);
    if (createHash('sha256').update(prefix).digest('hex') !== file.sha256) return;
    const snapshots = new Map<string, AggregateSnapshot>();
    try {
      const text = prefix.toString('utf8');
      if (text.length > 0 && !text.endsWith('\n')) return;
      for (const line of text.split('\n')) {
        if (line.length === 0) continue;
        const entry = JSON.parse(line) as unknown;
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'string') return;
        if (entry.length === 3) snapshots.set(stateKey(entry[0], entry[1]), entry[2] as AggregateSnapshot);
        else if (entry.length === 2) snapshots.delete(stateKey(entry[0], entry[1]));
        else return;
      }
    } catch {
      return;
    }
    if (snapshots.size !== file.entries) return;
    this.snapshots = snapshots;
    this.persisted = file.checkpoint;
  }

  /** Starts a new log of this instance's with every live snapshot, commits it, and removes every other log. */
  private rewrite(checkpoint: string): void {
    this.logs += 1;
    const name = `snapshots-${Date.now().toString(36)}-${this.instance}-${this.logs}.jsonl`;
    const path = join(this.directory, name);
    const log: OwnLog = { name, bytes: 0, lines: 0, hash: createHash('sha256') };
    const fd = fs.openSync(path, 'wx');
    try {
      let chunk = '';
      for (const [entry, snapshot] of this.snapshots) {
        chunk += line(entry, snapshot);
        log.lines += 1;
        if (chunk.length >= 1 << 20) {
          this.write(fd, log, chunk);
          chunk = '';
        }
      }
      if (chunk.length > 0) this.write(fd, log, chunk);
      if (this.fsync) fs.fsyncSync(fd);
    } catch (error) {
      fs.closeSync(fd);
      fs.rmSync(path, { force: true });
      throw error;
    }
    fs.closeSync(fd);
    this.pending.clear();
    this.log = log;
    this.writeCheckpoint(log, checkpoint);
    this.removeOthers(name);
  }

  private append(log: OwnLog, checkpoint: string): void {
    if (this.pending.size > 0) {
      let chunk = '';
      for (const [entry, snapshot] of this.pending) chunk += line(entry, snapshot);
      // No O_CREAT: if another owner of the directory removed this log, fail and start a new one.
      const fd = fs.openSync(join(this.directory, log.name), fs.constants.O_WRONLY | fs.constants.O_APPEND);
      try {
        this.write(fd, log, chunk);
        if (this.fsync) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      log.lines += this.pending.size;
      this.pending.clear();
    }
    this.writeCheckpoint(log, checkpoint);
  }

  private write(fd: number, log: OwnLog, text: string): void {
    const buffer = Buffer.from(text, 'utf8');
    for (let written = 0; written < buffer.length; ) written += fs.writeSync(fd, buffer, written, buffer.length - written);
    log.hash.update(buffer);
    log.bytes += buffer.length;
  }

  private writeCheckpoint(log: OwnLog, checkpoint: string): void {
    const file: CheckpointFile = {
      format: FORMAT,
      checkpoint,
      log: log.name,
      bytes: log.bytes,
      sha256: log.hash.copy().digest('hex'),
      entries: this.snapshots.size,
    };
    const temp = join(this.directory, `${CHECKPOINT_FILE}.${this.instance}.tmp`);
    const fd = fs.openSync(temp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(file));
      if (this.fsync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, join(this.directory, CHECKPOINT_FILE));
    if (this.fsync) syncDirectory(this.directory);
    this.persisted = checkpoint;
  }

  /** Removes the logs and temporary files of other instances (and this one's old logs). Best effort. */
  private removeOthers(keep: string): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.directory);
    } catch {
      return;
    }
    const ownTemp = `${CHECKPOINT_FILE}.${this.instance}.tmp`;
    for (const name of names) {
      if (name === keep || name === ownTemp || !(LOG_FILE.test(name) || TEMP_FILE.test(name))) continue;
      try {
        fs.rmSync(join(this.directory, name), { force: true });
      } catch {
        // Removed on a later compaction.
      }
    }
  }
}

function isCheckpointFile(file: unknown): file is CheckpointFile {
  const candidate = file as Partial<CheckpointFile> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.format === FORMAT &&
    typeof candidate.checkpoint === 'string' &&
    typeof candidate.log === 'string' &&
    LOG_FILE.test(candidate.log) &&
    Number.isSafeInteger(candidate.bytes) &&
    (candidate.bytes as number) >= 0 &&
    typeof candidate.sha256 === 'string' &&
    Number.isSafeInteger(candidate.entries)
  );
}

/** One log line; JSON escapes newlines inside strings, so a line is one change. */
function line(name: string, snapshot: AggregateSnapshot | null): string {
  const [aggregateType, aggregateId] = splitKey(name);
  return `${JSON.stringify(snapshot === null ? [aggregateType, aggregateId] : [aggregateType, aggregateId, snapshot])}\n`;
}

function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(directory, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Not supported everywhere (Windows); the data files are synced already.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Where {@link CommandProcessor} keeps a partition's state under its
 * `stateDirectory`: `<stateDirectory>/<app>/<partition>`.
 */
export function partitionStateDirectory(stateDirectory: string, app: string, partition: number): string {
  // App names are topic-name characters; only '.' and '..' would mean something else in a path.
  return join(stateDirectory, /^\.+$/.test(app) ? encodeURIComponent(app).replace(/\./g, '%2E') : app, String(partition));
}
