/**
 * The recording module: records streams into fragmented-MP4 segment files with the engine that
 * serves live viewers (a Recorder is one more consumer of the stream), keeps them recorded across
 * source reconnects, repairs what a crash left, applies retention and serves the files.
 *
 * Layout: `naming.ts` (paths and names), `mp4-file.ts` (the mehd duration, reading moov/moof),
 * `writer.ts` (the per-recorder write queue), `recorder.ts` (the consumer), `repair.ts`
 * (start-up `.part` handling), `retention.ts`, `store.ts` (listing), `service.ts` (jobs and the
 * module's one timer), `routes.ts` (the API).
 */
import type { GatewayContext, GatewayModule } from '../../module.ts';
import { mountRecordRoutes } from './routes.ts';
import { RecordService } from './service.ts';

export function createRecordModule(ctx: GatewayContext): GatewayModule {
  const service = new RecordService({
    config: ctx.config.record,
    registry: ctx.registry,
    log: ctx.logging.module('record'),
  });
  mountRecordRoutes(ctx.http, service);
  return {
    name: 'record',
    start: () => service.start(),
    stopAccepting: () => service.stopAccepting(),
    close: () => service.close(),
  };
}
