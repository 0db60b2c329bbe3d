/**
 * The few file operations a recorder needs, behind an interface so that tests can make the disk
 * slow or full. `nodeFs` is the real one (node:fs/promises).
 */
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';

/** A file open for writing. */
export interface RecordFile {
  /** Appends the buffers in order, all of them (short writes are continued). */
  append(buffers: readonly Buffer[]): Promise<void>;
  /** Overwrites bytes at an absolute position (the mehd duration); does not move the append position. */
  writeAt(data: Buffer, position: number): Promise<void>;
  /** fsync: the data is on the disk when this resolves. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface RecordFs {
  /** mkdir -p */
  mkdir(dir: string): Promise<void>;
  /** Creates a new file; fails when it exists (EEXIST), so nothing is ever overwritten. */
  create(path: string): Promise<RecordFile>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync of a folder, so that a rename in it survives a power loss. Best effort. */
  syncDir(dir: string): Promise<void>;
}

class NodeFile implements RecordFile {
  constructor(private readonly fh: FileHandle) {}

  async append(buffers: readonly Buffer[]): Promise<void> {
    let rest = buffers.filter((b) => b.length > 0);
    while (rest.length > 0) {
      const { bytesWritten } = await this.fh.writev(rest);
      rest = skipBytes(rest, bytesWritten);
    }
  }

  async writeAt(data: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.fh.write(data, done, data.length - done, position + done);
      done += bytesWritten;
    }
  }

  sync(): Promise<void> {
    return this.fh.sync();
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** The buffers after the first `n` bytes (a short write continues there). */
export function skipBytes(buffers: readonly Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = n;
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    out.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return out;
}

export const nodeFs: RecordFs = {
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  async create(path) {
    // Not O_APPEND: positional writes (the mehd duration) must land where they are aimed.
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    return new NodeFile(fh);
  },
  rename,
  unlink,
  async syncDir(dir) {
    let fh: FileHandle | undefined;
    try {
      fh = await open(dir, constants.O_RDONLY);
      await fh.sync();
    } catch {
      // Some filesystems refuse fsync on a folder; the rename itself has happened.
    } finally {
      await fh?.close().catch(() => undefined);
    }
  },
};
