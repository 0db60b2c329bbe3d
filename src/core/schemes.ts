/**
 * The table of source URL schemes. Protocol packages register themselves here at start-up; the
 * engine never imports them, so the core has no dependency on any protocol.
 */
import { BadRequestError } from './errors.ts';
import type { SourceContext, SourceDriver, SourceFactory } from './source.ts';

export interface SchemeOptions {
  /** Sources that run programs (exec:, ffmpeg: with raw args) may come from the config file only. */
  configOnly?: boolean;
}

interface SchemeEntry {
  factory: SourceFactory;
  options: SchemeOptions;
}

export class SchemeTable {
  #schemes = new Map<string, SchemeEntry>();

  register(scheme: string, factory: SourceFactory, options: SchemeOptions = {}): void {
    this.#schemes.set(scheme.toLowerCase(), { factory, options });
  }

  schemes(): string[] {
    return [...this.#schemes.keys()].sort();
  }

  /** Validates the URL and returns its driver. Throws BadRequestError naming what is wrong. */
  create(url: string, ctx: SourceContext): SourceDriver {
    const scheme = schemeOf(url);
    if (!scheme) throw new BadRequestError(`source "${url}" has no scheme (expected e.g. rtsp://, file:)`);
    const entry = this.#schemes.get(scheme);
    if (!entry) {
      throw new BadRequestError(
        `unknown source scheme "${scheme}:" (supported: ${this.schemes().join(', ')})`,
      );
    }
    if (entry.options.configOnly && !ctx.fromConfig) {
      throw new BadRequestError(
        `"${scheme}:" sources run programs and may only be defined in the config file`,
      );
    }
    return entry.factory(url, ctx);
  }
}

/** `rtsp://x` -> `rtsp`, `ffmpeg:x` -> `ffmpeg`; undefined when there is no scheme. */
export function schemeOf(url: string): string | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url);
  return m ? m[1].toLowerCase() : undefined;
}
