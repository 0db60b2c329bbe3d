/**
 * Writes stream changes made through the API back to the config file, keeping its comments and
 * layout (yaml's Document API). Writes are serialized and atomic (temporary file, then rename), so
 * a crash never leaves a half-written config.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { Document, isMap, parseDocument } from 'yaml';
import { SerialQueue } from '../core/serial.ts';
import type { Logger } from '../log/logger.ts';

export class ConfigWriter {
  readonly #queue = new SerialQueue();

  constructor(
    readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Sets (urls) or removes (undefined) a stream; resolves when the file is written. */
  update(name: string, urls: string[] | undefined): Promise<void> {
    return this.#queue
      .run(async () => {
        const text = await readFile(this.path, 'utf8').catch(() => '');
        const doc = text.trim() ? parseDocument(text) : new Document({});
        if (!isMap(doc.contents)) throw new Error('the config file is not a mapping of sections');
        if (urls === undefined) doc.deleteIn(['streams', name]);
        else {
          if (!doc.hasIn(['streams']) || doc.getIn(['streams']) === null)
            doc.setIn(['streams'], doc.createNode({}));
          doc.setIn(['streams', name], urls.length === 1 ? urls[0] : doc.createNode(urls));
        }
        const tmp = `${this.path}.${process.pid}.tmp`;
        await writeFile(tmp, doc.toString());
        await rename(tmp, this.path);
      })
      .catch((err) => {
        this.log.error({ err, file: this.path }, 'could not write stream change to the config file');
      });
  }

  /** Waits for pending writes (shutdown). */
  flush(): Promise<void> {
    return this.#queue.run(() => undefined);
  }
}
