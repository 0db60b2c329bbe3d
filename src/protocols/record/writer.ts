/**
 * SegmentWriter: one recorder's file writes, asynchronous and strictly in order, one at a time.
 *
 * The recorder queues operations synchronously from its frame path (open a segment, append a
 * whole fragment, finish, discard); one loop performs them. Consecutive appends go to the disk as
 * one `writev`. `queuedBytes` counts what is queued and not yet written: it is the recorder's
 * backlog, so a slow disk makes the consumer drop frames instead of growing memory.
 *
 * A segment is written to `.<name>.part` and becomes `<name>` only when finished: the mehd
 * duration is set, the file is fsynced and closed, renamed, and the folder fsynced. A crash at any
 * point leaves the finished segments untouched and at most one `.part` per recorder.
 *
 * The first failing operation (disk full, folder gone) fails the writer for good: the queue is
 * dropped, the file closed (the `.part` stays for repair) and `onError` is called once.
 */
import { join } from 'node:path';
import { errorMessage } from '../../core/errors.ts';
import type { RecordFile, RecordFs } from './fs.ts';
import { partName } from './naming.ts';

/** A segment that has been renamed to its final name. */
export interface FinishedSegment {
  dir: string;
  name: string;
  path: string;
  /** Seconds of media (the lead track). */
  duration: number;
  bytes: number;
}

export interface WriterHooks {
  onFinished?(segment: FinishedSegment): void;
  /** Called once, when the writer fails; `part` is the file that was being written, if any. */
  onError?(error: Error, part: string | undefined): void;
}

/** An overwrite of a few bytes at a position before the segment is closed (the mehd duration). */
export interface Patch {
  data: Buffer;
  at: number;
}

type Op =
  | { kind: 'open'; dir: string; name: string }
  | { kind: 'data'; data: Buffer }
  | { kind: 'finish'; duration: number; patch: Patch | undefined }
  | { kind: 'discard' };

/** Most buffers and bytes one writev takes. */
const MAX_BATCH_BUFFERS = 256;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export class SegmentWriter {
  readonly #fs: RecordFs;
  readonly #hooks: WriterHooks;
  #ops: Op[] = [];
  #queued = 0;
  #active = false;
  #waiters: (() => void)[] = [];
  #failed: Error | undefined;
  #file: RecordFile | undefined;
  #dir = '';
  #name = '';
  #bytes = 0;

  constructor(fs: RecordFs, hooks: WriterHooks = {}) {
    this.#fs = fs;
    this.#hooks = hooks;
  }

  /** Bytes queued and not yet on the disk (the part of a batch being written included). */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** The error that failed the writer, if any. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Starts a segment: `dir` is created if needed, then `dir/.<name>.part`. */
  open(dir: string, name: string): void {
    this.#push({ kind: 'open', dir, name });
  }

  /** Appends a whole init segment or fragment (never part of one: a crash cuts between them). */
  write(data: Buffer): void {
    if (this.#failed) return;
    this.#queued += data.length;
    this.#push({ kind: 'data', data });
  }

  /** Ends the segment: patch, fsync, close, rename to its final name, fsync the folder. */
  finish(duration: number, patch?: Patch): void {
    this.#push({ kind: 'finish', duration, patch });
  }

  /** Ends the segment by removing it (it has no media). */
  discard(): void {
    this.#push({ kind: 'discard' });
  }

  /** Resolves when the queue is empty (or the writer failed). Never rejects. */
  idle(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #push(op: Op): void {
    if (this.#failed) return;
    this.#ops.push(op);
    if (this.#active) return;
    this.#active = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      while (this.#ops.length > 0 && !this.#failed) {
        try {
          await this.#step();
        } catch (err) {
          await this.#fail(err instanceof Error ? err : new Error(errorMessage(err)));
        }
      }
    } finally {
      this.#active = false;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  async #step(): Promise<void> {
    const op = this.#ops[0];
    if (op.kind === 'data') {
      let n = 0;
      let bytes = 0;
      while (n < this.#ops.length && n < MAX_BATCH_BUFFERS && bytes < MAX_BATCH_BYTES) {
        const next = this.#ops[n];
        if (next.kind !== 'data') break;
        bytes += next.data.length;
        n++;
      }
      const batch = this.#ops.splice(0, n) as { data: Buffer }[];
      const file = this.#file;
      if (!file) throw new Error(`recording: data without an open segment (${bytes} bytes)`);
      await file.append(batch.map((d) => d.data));
      this.#queued -= bytes;
      this.#bytes += bytes;
      return;
    }
    this.#ops.shift();
    switch (op.kind) {
      case 'open': {
        await this.#fs.mkdir(op.dir);
        this.#dir = op.dir;
        this.#name = op.name;
        this.#bytes = 0;
        this.#file = await this.#fs.create(join(op.dir, partName(op.name)));
        return;
      }
      case 'finish': {
        const file = this.#takeFile();
        if (op.patch) await file.writeAt(op.patch.data, op.patch.at);
        await file.sync();
        await file.close();
        const path = join(this.#dir, this.#name);
        await this.#fs.rename(join(this.#dir, partName(this.#name)), path);
        await this.#fs.syncDir(this.#dir);
        const segment = { dir: this.#dir, name: this.#name, path, duration: op.duration, bytes: this.#bytes };
        try {
          this.#hooks.onFinished?.(segment);
        } catch {
          // A listener's bug must not fail the recording.
        }
        return;
      }
      case 'discard': {
        const file = this.#takeFile();
        await file.close();
        await this.#fs.unlink(join(this.#dir, partName(this.#name)));
        return;
      }
    }
  }

  #takeFile(): RecordFile {
    const file = this.#file;
    if (!file) throw new Error('recording: no open segment to end');
    this.#file = undefined;
    return file;
  }

  async #fail(error: Error): Promise<void> {
    this.#failed = error;
    this.#ops = [];
    this.#queued = 0;
    const part = this.#name ? join(this.#dir, partName(this.#name)) : undefined;
    const file = this.#file;
    this.#file = undefined;
    await file?.close().catch(() => undefined);
    try {
      this.#hooks.onError?.(error, file ? part : undefined);
    } catch {
      // see onFinished
    }
  }
}
