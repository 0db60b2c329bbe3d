/**
 * `exec:COMMAND` sources: a program that publishes back to the gateway over RTSP (`{output}` in
 * its arguments) or writes MPEG-TS to its stdout. Config file only, unless `api.allow_exec`: the
 * scheme is registered `configOnly` (see src/core/schemes.ts). Started on the first consumer,
 * stopped `idle_timeout` after the last, restarted with backoff when it exits.
 */
import type { SourceContext, SourceDriver, SourceFactory } from '../../core/source.ts';
import type { Logger } from '../../log/logger.ts';
import type { RtspLoopback } from '../rtsp/server/loopback.ts';
import { parseExecUrl } from './command.ts';
import { ChildSourceDriver } from './driver.ts';

export interface ExecContext {
  loopback: RtspLoopback;
  log: Logger;
}

/** The `exec:` scheme's factory for one gateway. */
export function execSourceFactory(ctx: ExecContext): SourceFactory {
  return (url: string, source: SourceContext): SourceDriver => {
    const cmd = parseExecUrl(url);
    return new ChildSourceDriver(
      {
        argv: cmd.argv,
        mode: cmd.publishes ? 'publish' : 'mpegts',
        owner: `exec:${source.streamName}`,
        what: `exec (${cmd.argv[0].slice(0, 40)})`,
        timeoutMs: cmd.timeoutMs,
        killSignal: cmd.killSignal,
        killTimeoutMs: cmd.killTimeoutMs,
      },
      { loopback: ctx.loopback, log: ctx.log },
    );
  };
}
