/**
 * Test helpers for the RTMP server: a minimal publishing client built on RtmpConnection (connect,
 * createStream, publish, then FLV tags as messages), and waiting for conditions.
 */
import { connect as tcpConnect } from 'node:net';
import type { Media } from '../../../src/core/media.ts';
import type { Amf0Value } from '../../../src/formats/flv/amf0.ts';
import { FlvMuxer, type FlvTag } from '../../../src/formats/flv/muxer.ts';
import {
  commandMessage,
  field,
  parseCommand,
  type RtmpCommand,
} from '../../../src/protocols/rtmp/command.ts';
import { RtmpConnection } from '../../../src/protocols/rtmp/connection.ts';
import { ChunkStream, MessageType } from '../../../src/protocols/rtmp/types.ts';
import { SYNTHETIC_MEDIAS, syntheticInterleaved } from '../ts/media-helpers.ts';

export async function waitUntil(probe: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface TestPublisher {
  conn: RtmpConnection;
  /** Every command the server sent. */
  commands: RtmpCommand[];
  /** Resolves with the publish onStatus code (`NetStream.Publish.Start` or an error code). */
  published: Promise<string>;
  streamId: number;
  /** Sends FLV tags as messages on the publishing stream. */
  sendTags(tags: FlvTag[]): void;
  close(): void;
}

/** Connects to `port` and publishes to `app`/`name` (which may carry `?user=&pass=`). */
export function publish(port: number, app: string, name: string): Promise<TestPublisher> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('error', reject);
    socket.once('connect', () => {
      const conn = new RtmpConnection(socket, 'client');
      const commands: RtmpCommand[] = [];
      let onPublished!: (code: string) => void;
      const published = new Promise<string>((r) => {
        onPublished = r;
      });
      conn.once('close', (err) => onPublished(`closed: ${err?.message ?? ''}`));
      const pub: TestPublisher = {
        conn,
        commands,
        published,
        streamId: 0,
        sendTags(tags) {
          for (const t of tags) {
            const csid =
              t.type === 9 ? ChunkStream.VIDEO : t.type === 8 ? ChunkStream.AUDIO : ChunkStream.STREAM;
            conn.send({
              csid,
              type: t.type,
              streamId: pub.streamId,
              timestamp: Math.round(t.timestampMs),
              body: t.body,
            });
          }
        },
        close: () => conn.close(),
      };
      conn.once('ready', () => {
        conn.send(
          commandMessage(3, 0, 'connect', 1, {
            app,
            tcUrl: `rtmp://127.0.0.1:${port}/${app}`,
            type: 'nonprivate',
          }),
        );
        resolve(pub);
      });
      conn.on('message', (m) => {
        if (m.type !== MessageType.COMMAND_AMF0) return;
        const c = parseCommand(m);
        commands.push(c);
        if (c.name === '_result' && c.transactionId === 1) {
          conn.send(commandMessage(3, 0, 'releaseStream', 2, null, name));
          conn.send(commandMessage(3, 0, 'FCPublish', 3, null, name));
          conn.send(commandMessage(3, 0, 'createStream', 4, null));
        } else if (c.name === '_result' && c.transactionId === 4) {
          pub.streamId = c.args[0] as number;
          conn.send(commandMessage(ChunkStream.STREAM, pub.streamId, 'publish', 5, null, name, 'live'));
        } else if (c.name === 'onStatus') {
          const code = field(c.args[0] as Amf0Value, 'code');
          if (typeof code === 'string' && code.startsWith('NetStream.Publish')) onPublished(code);
        }
      });
    });
  });
}

/** The FLV tags of a synthetic H.264 + AAC stream: `[start tags, frame tags...]`. */
export function syntheticTags(videoFrames: number, medias: Media[] = SYNTHETIC_MEDIAS): FlvTag[][] {
  const muxer = new FlvMuxer(medias);
  return [
    muxer.startTags(),
    ...syntheticInterleaved(videoFrames).map(([track, frame]) => muxer.frameTags(track, frame)),
  ];
}

/** A throwaway self-signed certificate (CN=relay.test), for rtmps:// and https:// sources; never verified. */
export const TEST_TLS = {
  key: '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgoxG8P+EqPuMZNjHn\njm95m74IfJGshZhgpWwey9w31rGhRANCAASnaWLolADbJ427Ii1X2+uEvwFZBUGo\nnmqiiwMzUNxLt9Z9KDZ/y+jFPCJxmBiKcQuVkyvKGpNLqyTYMg/9z6mp\n-----END PRIVATE KEY-----\n',
  cert: '-----BEGIN CERTIFICATE-----\nMIIBgTCCASegAwIBAgIUX2b47rfDvcFKYpdItK9Jeu+XJJIwCgYIKoZIzj0EAwIw\nFTETMBEGA1UEAwwKcmVsYXkudGVzdDAgFw0yNjExMjcxMTQyNTRaGA8yMTI2MTEw\nMzExNDI1NFowFTETMBEGA1UEAwwKcmVsYXkudGVzdDBZMBMGByqGSM49AgEGCCqG\nSM49AwEHA0IABKdpYuiUANsnjbsiLVfb64S/AVkFQaieaqKLAzNQ3Eu31n0oNn/L\n6MU8InGYGIpxC5WTK8oak0urJNgyD/3PqamjUzBRMB0GA1UdDgQWBBSUq1QzhUoJ\nf3ZI8zEP0l8xoi73ZTAfBgNVHSMEGDAWgBSUq1QzhUoJf3ZI8zEP0l8xoi73ZTAP\nBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQC7dHjbYuddlsE5dTYJ\nURi5uXSfe7WoG0eEhShe8wr4ggIgJVAAyRpxQ5w31Kuif0xMsID/Ff7Qr9ZqwMUB\nEPXBv18=\n-----END CERTIFICATE-----\n',
};
