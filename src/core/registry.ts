/**
 * StreamRegistry: the one owner of the name -> Stream map. Every change runs through a per-name
 * serial queue, so parallel creates of one name give one stream (go2rtc's "concurrent map writes")
 * and a listing never sees a half-made stream (its "concurrent map read and map write").
 */
import { SafeEmitter } from './emitter.ts';
import { BadRequestError, ConflictError, NotFoundError } from './errors.ts';
import type { RunnerOptions } from './runner.ts';
import type { SchemeTable } from './schemes.ts';
import { KeyedSerial } from './serial.ts';
import { type SourceSpec, Stream, type StreamHooks } from './stream.ts';

export type RegistryEvents = {
  /** A stream was created, its sources replaced or it was deleted; `origin` says by whom. */
  change: [name: string, urls: string[] | undefined, origin: 'api' | 'config' | 'publish'];
};

const NAME = /^[\w.~@+-][\w.~@+:/ -]{0,127}$/;

export class StreamRegistry extends SafeEmitter<RegistryEvents> {
  /** Hooks every stream uses (the transcoder); modules set them at start-up. */
  readonly hooks: StreamHooks = {};
  readonly #streams = new Map<string, Stream>();
  readonly #serial = new KeyedSerial();
  #closed = false;

  constructor(
    readonly schemes: SchemeTable,
    private readonly runnerOptions: RunnerOptions = {},
  ) {
    super();
  }

  get(name: string): Stream | undefined {
    return this.#streams.get(name);
  }

  /** Throws NotFoundError for an unknown name. */
  require(name: string): Stream {
    const stream = this.#streams.get(name);
    if (!stream) throw new NotFoundError(`stream "${name}" not found`);
    return stream;
  }

  /** A snapshot: later changes do not affect the returned array. */
  list(): Stream[] {
    return [...this.#streams.values()];
  }

  names(): string[] {
    return [...this.#streams.keys()];
  }

  /** Creates a stream; ConflictError if the name exists. URLs are validated before anything changes. */
  async create(name: string, urls: string[], origin: 'api' | 'config' = 'api'): Promise<Stream> {
    validateName(name);
    return this.#serial.run(name, () => {
      this.#assertOpen();
      if (this.#streams.has(name)) throw new ConflictError(`stream "${name}" already exists`);
      const stream = new Stream(name, this.#specs(name, urls, origin), this.runnerOptions, this.hooks);
      this.#streams.set(name, stream);
      this.emit('change', name, urls, origin);
      return stream;
    });
  }

  /** Replaces the sources of a stream, creating it when it does not exist (as go2rtc's PATCH). */
  async upsert(name: string, urls: string[], origin: 'api' | 'config' = 'api'): Promise<Stream> {
    validateName(name);
    return this.#serial.run(name, async () => {
      this.#assertOpen();
      const specs = this.#specs(name, urls, origin);
      let stream = this.#streams.get(name);
      if (stream) {
        await stream.replaceSources(specs);
      } else {
        stream = new Stream(name, specs, this.runnerOptions, this.hooks);
        this.#streams.set(name, stream);
      }
      this.emit('change', name, urls, origin);
      return stream;
    });
  }

  /** Returns the stream for a publisher, creating an empty one when the name is new. */
  async forPublish(name: string): Promise<Stream> {
    validateName(name);
    return this.#serial.run(name, () => {
      this.#assertOpen();
      let stream = this.#streams.get(name);
      if (!stream) {
        stream = new Stream(name, [], this.runnerOptions, this.hooks);
        this.#streams.set(name, stream);
        this.emit('change', name, [], 'publish');
      }
      return stream;
    });
  }

  /** Deletes a stream, closing its consumers and sources. NotFoundError if unknown. */
  delete(name: string, origin: 'api' | 'config' = 'api'): Promise<void> {
    return this.#serial.run(name, () => {
      const stream = this.#streams.get(name);
      if (!stream) throw new NotFoundError(`stream "${name}" not found`);
      this.#streams.delete(name);
      stream.close();
      this.emit('change', name, undefined, origin);
    });
  }

  /** Idempotent: closes every stream (consumers first, then sources). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const stream of this.#streams.values()) stream.close();
    this.#streams.clear();
    this.removeAllListeners();
  }

  #specs(name: string, urls: string[], origin: 'api' | 'config'): SourceSpec[] {
    return urls.map((url) => {
      if (typeof url !== 'string' || url.trim() === '') throw new BadRequestError('source URL is empty');
      return {
        url,
        driver: this.schemes.create(url.trim(), { streamName: name, fromConfig: origin === 'config' }),
      };
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new BadRequestError('server is shutting down');
  }
}

function validateName(name: string): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BadRequestError(
      `invalid stream name "${String(name).slice(0, 64)}": 1-128 characters of letters, digits, and . _ ~ @ + - : / space`,
    );
  }
}
