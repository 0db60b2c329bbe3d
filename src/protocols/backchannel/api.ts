/**
 * `POST /api/streams?dst=NAME&src=SRC` (go2rtc's API): plays `SRC` (a `file:`, another source URL,
 * or the name of another stream) into the back channel of stream `NAME`, replacing what this API
 * played there before; `src=` empty stops it. One player per stream, owned here until it ends.
 */
import type { ServerResponse } from 'node:http';
import { type ApiRequest, HttpError, sendJson } from '../../api/http.ts';
import type { StreamsApiGuard } from '../../api/streams.ts';
import { maskSecrets } from '../../core/mask.ts';
import type { StreamRegistry } from '../../core/registry.ts';
import type { Stream } from '../../core/stream.ts';
import type { Logger } from '../../log/logger.ts';
import { BackchannelPlayer, type PlayerInfo } from './player.ts';

export class BackchannelPlayers {
  readonly #players = new Map<Stream, BackchannelPlayer>();

  constructor(
    private readonly registry: StreamRegistry,
    private readonly guard: StreamsApiGuard = {},
    private readonly log?: Logger,
  ) {}

  /** The player of a stream, if one runs. */
  get(stream: Stream): BackchannelPlayer | undefined {
    return this.#players.get(stream);
  }

  /**
   * Plays `src` into `dst`'s back channel, or stops what plays there when `src` is empty.
   * Resolves once the audio flows with what plays (undefined after a stop).
   */
  async play(dst: string, src: string): Promise<PlayerInfo | undefined> {
    const stream = this.registry.require(dst);
    this.#players.get(stream)?.close();
    if (src.trim() === '') return undefined;
    // A stream name reads that stream; anything else is a source URL, checked like the API's.
    if (!this.registry.get(src)) await this.guard.checkSource?.(src);
    const player = new BackchannelPlayer(stream, src, this.registry);
    this.#players.set(stream, player);
    player.once('close', (err) => {
      if (this.#players.get(stream) === player) this.#players.delete(stream);
      this.log?.info(
        { stream: dst, src: maskSecrets(src), reason: err?.message },
        'back channel playback ended',
      );
    });
    await player.start();
    this.log?.info({ ...player.info() }, 'back channel playback started');
    return player.info();
  }

  /** The route handler. */
  async handle(req: ApiRequest, res: ServerResponse): Promise<void> {
    const dst = req.query.get('dst');
    // POST means nothing else on this path (creating is PUT): without `dst` it stays "not allowed".
    if (!dst) throw new HttpError(405, 'method POST not allowed on /api/streams without ?dst=NAME&src=...');
    const src = req.query.get('src') ?? '';
    const info = await this.play(dst, src);
    sendJson(res, 200, info ?? { stream: dst, stopped: true });
  }

  /** Idempotent: stops every player. */
  closeAll(): void {
    for (const player of [...this.#players.values()]) player.close();
    this.#players.clear();
  }
}
