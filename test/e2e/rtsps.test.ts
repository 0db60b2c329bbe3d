/**
 * RTSPS: the RTSP server behind TLS (`rtsp.tls_listen` with the API's certificate), read by
 * ffprobe over `rtsps://`; plain RTSP keeps working beside it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const run = promisify(execFile);

describe('gateway process: RTSPS', { timeout: 90_000 }, () => {
  let gw: GatewayProcess;
  let certDir: string;

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'mediagate-rtsps-'));
    const [cert, key] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
      ],
      { timeout: 10_000 },
    );
    gw = await startGateway(
      '',
      15000,
      {},
      `api:\n  listen: "127.0.0.1:0"\n  tls_cert: ${cert}\n  tls_key: ${key}\nrtsp:\n  listen: "127.0.0.1:0"\n  tls_listen: "127.0.0.1:0"\n`,
    );
  });
  after(async () => {
    await gw?.stop();
    rmSync(certDir, { recursive: true, force: true });
  });

  test('ffprobe reads rtsps://127.0.0.1/demo as h264 640x360 with opus over TLS', async () => {
    assert.ok(gw.ports.RTSPS, `RTSPS port logged: ${JSON.stringify(gw.ports)}`);
    const { stdout } = await run(
      'ffprobe',
      [
        '-v',
        'error',
        '-rw_timeout',
        '10000000',
        '-show_entries',
        'stream=codec_name,width,height',
        '-of',
        'csv=p=0',
        `rtsps://127.0.0.1:${gw.ports.RTSPS}/demo`,
      ],
      { timeout: 30_000 },
    );
    const lines = stdout.trim().split('\n').sort();
    assert.deepEqual(lines, ['h264,640,360', 'opus']);
  });

  test('a plain-text RTSP request on the RTSPS port gets no RTSP answer', async () => {
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(gw.ports.RTSPS, '127.0.0.1');
      let text = '';
      socket.on('data', (d) => {
        text += d.toString('latin1');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
      socket.write('OPTIONS rtsp://127.0.0.1/demo RTSP/1.0\r\nCSeq: 1\r\n\r\n');
      setTimeout(() => socket.destroy(), 2000);
    });
    assert.doesNotMatch(answer, /RTSP\/1.0 200/);
  });
});
