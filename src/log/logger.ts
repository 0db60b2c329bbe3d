/**
 * Structured logging with pino: one root logger, a child per module with its own level (config
 * `log: { level: info, rtsp: debug }`), every line also kept in a bounded in-memory ring for the
 * API and the UI. Secrets in URLs are masked before a line leaves the process.
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { setListenerErrorHandler } from '../core/emitter.ts';
import { maskSecrets } from '../core/mask.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type { Logger };

export interface LogConfig {
  level?: LogLevel;
  /** Per-module levels: `{ rtsp: 'debug' }`. */
  modules?: Record<string, LogLevel>;
  /** Lines kept for GET /api/log. Default 1000. */
  ringSize?: number;
}

/** The last lines written, oldest first (JSON objects as pino wrote them). */
export class LogRing {
  #lines: string[] = [];
  constructor(readonly size: number) {}

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.size) this.#lines.splice(0, this.#lines.length - this.size);
  }

  lines(): string[] {
    return [...this.#lines];
  }
}

export interface Logging {
  root: Logger;
  ring: LogRing;
  /** A child logger for a module, at the module's configured level. */
  module(name: string): Logger;
}

/** Creates the process's logging. `out` defaults to stdout; tests pass a sink. */
export function createLogging(config: LogConfig = {}, out: NodeJS.WritableStream = process.stdout): Logging {
  const ring = new LogRing(config.ringSize ?? 1000);
  const masked = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = maskSecrets(chunk.toString());
      ring.push(line.trimEnd());
      out.write(line);
      done();
    },
  });
  const root = pino(
    {
      level: config.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    masked,
  );
  setListenerErrorHandler((event, err) => root.error({ err, event }, 'event listener threw'));
  const modules = config.modules ?? {};
  return {
    root,
    ring,
    module(name) {
      const child = root.child({ module: name });
      const level = modules[name];
      if (level) child.level = level;
      return child;
    },
  };
}

/** A logger that drops everything, for tests and pure code paths. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
