/**
 * End to end: the gateway process with `auth:` users and HTTPS. Unauthenticated API, WebSocket,
 * WHEP, HLS, MP4 and RTSP requests are refused; ffprobe reads RTSP with Digest credentials and
 * HLS with a stream token; the streams API refuses loops and file sources; /metrics counts the
 * refusals; HTTPS serves the UI with a certificate made here by openssl and swaps it on SIGHUP;
 * `mediagate --hash-password` makes hashes the gateway accepts.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { digestHa1, hashPassword, verifyPassword } from '../../src/auth/password.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const DEMO_FILE = join(ROOT, 'assets/demo.mp4');
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const ADMIN = { authorization: basic('admin', 'admin-pass') };
const ALICE = { authorization: basic('alice', 'alice-pass') };

/** A self-signed certificate for 127.0.0.1 (EC P-256: quick to make). */
async function makeCert(dir: string, cn: string): Promise<void> {
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
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { timeout: 10_000 },
  );
}

/** GET over HTTPS trusting `ca`; resolves with status, body and the server certificate's fingerprint. */
function httpsFetch(port: number, path: string, ca: Buffer, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; fingerprint: string; type: string }>(
    (resolve, reject) => {
      const req = httpsGet(
        { host: '127.0.0.1', port, path, ca, headers, agent: false, timeout: 5000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              fingerprint: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256,
              type: String(res.headers['content-type']),
            }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    },
  );
}

/** Resolves with "open" or the status of a refused WebSocket upgrade. */
function wsStatus(url: string): Promise<string | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', (err) => resolve(`error: ${err.message}`));
  });
}

async function ffprobe(url: string): Promise<{ ok: boolean; codecs: string[]; stderr: string }> {
  try {
    const { stdout } = await run(
      'ffprobe',
      ['-v', 'error', '-rw_timeout', '8000000', '-show_entries', 'stream=codec_name', '-of', 'json', url],
      { timeout: 20_000, killSignal: 'SIGKILL' },
    );
    const streams = (JSON.parse(stdout) as { streams: { codec_name: string }[] }).streams;
    return { ok: true, codecs: streams.map((s) => s.codec_name).sort(), stderr: '' };
  } catch (err) {
    return { ok: false, codecs: [], stderr: String((err as { stderr?: string }).stderr ?? err) };
  }
}

describe('gateway process with auth: users and HTTPS', { timeout: 90_000 }, () => {
  let gw: GatewayProcess;
  let certDir: string;
  let ca: Buffer;
  let rtsp: number;

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'mediagate-auth-e2e-'));
    await makeCert(certDir, 'first');
    ca = readFileSync(join(certDir, 'cert.pem'));
    const adminHash = await hashPassword('admin-pass');
    gw = await startGateway(
      [
        'streams:',
        `  other: file:${DEMO_FILE}`,
        '  small: ffmpeg:demo#video=h264#width=320',
        'auth:',
        '  users:',
        '    admin:',
        `      password: "${adminHash}"`,
        '      role: admin',
        `      rtsp_ha1: ${digestHa1('admin', 'mediagate', 'admin-pass')}`,
        '    alice:',
        '      password: alice-pass',
        '      streams: [demo]',
        '',
      ].join('\n'),
      20_000,
      {},
      [
        'api:',
        '  tls_listen: "127.0.0.1:0"',
        `  tls_cert: ${join(certDir, 'cert.pem')}`,
        `  tls_key: ${join(certDir, 'key.pem')}`,
        '',
      ].join('\n'),
    );
    rtsp = gw.ports.RTSP;
  });
  after(async () => {
    if (gw) {
      const { code } = await gw.stop();
      if (code !== 0) console.error(gw.output());
    }
    rmSync(certDir, { recursive: true, force: true });
  });

  test('the gateway warns at start-up about a plain-text password and not about an admin that has rtsp_ha1', () => {
    assert.match(gw.output(), /"user":"alice".*password stored in plain text/);
    assert.doesNotMatch(gw.output(), /"user":"admin".*no rtsp_ha1/);
  });

  test('requests without credentials to the API, WebSocket, WHEP, HLS and MP4 get 401; health and the UI load', async () => {
    const refused: [string, string][] = [
      ['GET', '/api'],
      ['GET', '/api/streams'],
      ['PUT', '/api/streams?name=x&src=rtsp://192.0.2.1/x'],
      ['DELETE', '/api/streams?src=demo'],
      ['GET', '/api/stream.m3u8?src=demo'],
      ['GET', '/api/stream.mp4?src=demo'],
      ['GET', '/api/frame.mp4?src=demo'],
      ['GET', '/api/frame.jpeg?src=demo'],
      ['POST', '/api/webrtc?src=demo'],
      ['GET', '/api/debug/handles'],
      ['GET', '/api/log'],
      ['GET', '/metrics'],
      ['GET', '/api/me'],
    ];
    for (const [method, path] of refused) {
      const res = await gw.api(path, { method, headers: { 'content-type': 'application/sdp' } });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="mediagate", charset="UTF-8"');
      assert.deepEqual(await res.json(), { error: 'authentication required' });
    }
    assert.equal(await wsStatus(`ws://127.0.0.1:${gw.apiPort}/api/ws?src=demo`), 401);
    assert.equal((await gw.api('/api/health')).status, 200);
    for (const page of ['/', '/login.html', '/auth.js']) assert.equal((await gw.api(page)).status, 200, page);
    const wrong = await gw.api('/api/streams', { headers: { authorization: basic('alice', 'nope') } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await wrong.json(), { error: 'invalid or expired credentials' });
  });

  test('ffprobe reads RTSP with Digest credentials, gets 401 without them and 403 for a stream the user may not view', async () => {
    const viewer = await ffprobe(`rtsp://alice:alice-pass@127.0.0.1:${rtsp}/demo`);
    assert.ok(viewer.ok, viewer.stderr);
    assert.deepEqual(viewer.codecs, ['h264', 'opus']);
    const admin = await ffprobe(`rtsp://admin:admin-pass@127.0.0.1:${rtsp}/other`);
    assert.ok(admin.ok, `admin with rtsp_ha1 uses Digest: ${admin.stderr}`);
    const none = await ffprobe(`rtsp://127.0.0.1:${rtsp}/demo`);
    assert.equal(none.ok, false);
    assert.match(none.stderr, /401/);
    const bad = await ffprobe(`rtsp://alice:wrong@127.0.0.1:${rtsp}/demo`);
    assert.match(bad.stderr, /401/);
    const forbidden = await ffprobe(`rtsp://alice:alice-pass@127.0.0.1:${rtsp}/other`);
    assert.match(forbidden.stderr, /403/);
    // ffprobe answered Digest (not Basic): the log shows no Basic fallback was needed.
    assert.doesNotMatch(gw.output(), /"user":"admin".*RTSP login failed/);
  });

  test('an ffmpeg: source reads a stream from and publishes back to the RTSP server as the internal user', async () => {
    const small = await ffprobe(`rtsp://admin:admin-pass@127.0.0.1:${rtsp}/small`);
    assert.ok(small.ok, small.stderr);
    assert.deepEqual(small.codecs, ['h264']);
    assert.doesNotMatch(gw.output(), /"user":"\(mediagate\)".*login failed/);
  });

  test('a viewer token for demo plays HLS (ffprobe), MP4 and a frame of demo and is refused for another stream', async () => {
    const res = await gw.api('/api/token?src=demo&ttl=120', { headers: ADMIN });
    assert.equal(res.status, 200);
    const { token } = (await res.json()) as { token: string };
    const hls = await ffprobe(`http://127.0.0.1:${gw.apiPort}/api/stream.m3u8?src=demo&token=${token}`);
    assert.ok(hls.ok, hls.stderr);
    assert.ok(hls.codecs.includes('h264'), hls.codecs.join());
    const frame = await gw.api(`/api/frame.mp4?src=demo&token=${token}`);
    assert.equal(frame.status, 200);
    assert.equal(frame.headers.get('content-type'), 'video/mp4');
    assert.ok((await frame.arrayBuffer()).byteLength > 1000);
    const other = await gw.api(`/api/frame.mp4?src=other&token=${token}`);
    assert.equal(other.status, 403);
    assert.deepEqual(await other.json(), { error: 'forbidden' });
    const whep = await gw.api(`/api/webrtc?src=other&token=${token}`, { method: 'POST', body: 'v=0' });
    assert.equal(whep.status, 403);
    assert.equal(await wsStatus(`ws://127.0.0.1:${gw.apiPort}/api/ws?src=other&token=${token}`), 403);
    assert.equal(await wsStatus(`ws://127.0.0.1:${gw.apiPort}/api/ws?src=demo&token=${token}`), 'open');
    const forged = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await gw.api(`/api/frame.mp4?src=demo&token=${forged}`)).status, 401);
    assert.equal((await gw.api(`/api/streams?token=${token}`, { method: 'DELETE' })).status, 403);
  });

  test('the streams API refuses loops and file: sources, masks passwords and writes them back intact', async () => {
    const put = (src: string, name = 'cam') =>
      gw.api(`/api/streams?name=${name}&src=${encodeURIComponent(src)}`, { method: 'PUT', headers: ADMIN });
    const loop = await put(`rtsp://127.0.0.1:${rtsp}/demo`);
    assert.equal(loop.status, 400);
    assert.match(((await loop.json()) as { error: string }).error, /points at this gateway/);
    assert.equal((await put(`rtsp://localhost:${gw.apiPort}/x`)).status, 400);
    const refused = await put(`file:${DEMO_FILE}`);
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /api\.file_root/);
    assert.equal((await put('rtsp://cam:s3cr3t-pw@192.0.2.1/live', 'door')).status, 201);
    const listed = await (await gw.api('/api/streams?src=door', { headers: ADMIN })).text();
    assert.doesNotMatch(listed, /s3cr3t-pw/);
    assert.match(listed, /cam:\*\*\*@192\.0\.2\.1/);
    // The write-back runs after the answer: wait for it.
    const file = join(dirname(gw.configPath), 'overrides.yaml');
    for (let i = 0; i < 50 && !readFileSync(file, 'utf8').includes('door:'); i++) await sleep(50);
    assert.match(readFileSync(file, 'utf8'), /door: rtsp:\/\/cam:s3cr3t-pw@192\.0\.2\.1\/live/);
    assert.equal((await gw.api('/api/streams?src=door', { method: 'DELETE', headers: ALICE })).status, 403);
    assert.equal((await gw.api('/api/streams?src=door', { method: 'DELETE', headers: ADMIN })).status, 200);
    const mine = (await (await gw.api('/api/streams', { headers: ALICE })).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(mine), ['demo']);
  });

  test('GET /metrics (admin) counts the refusals by protocol and reason', async () => {
    assert.equal((await gw.api('/metrics', { headers: ALICE })).status, 403);
    const text = await (await gw.api('/metrics', { headers: ADMIN })).text();
    const count = (proto: string, reason: string) =>
      Number(
        new RegExp(`mediagate_auth_failures_total\\{proto="${proto}",reason="${reason}"\\} (\\d+)`).exec(
          text,
        )?.[1] ?? 0,
      );
    assert.ok(count('http', 'missing') >= 14, text.slice(0, 200));
    assert.ok(count('http', 'invalid') >= 2);
    assert.ok(count('http', 'forbidden') >= 4);
    assert.ok(count('rtsp', 'missing') >= 1);
    assert.ok(count('rtsp', 'invalid') >= 1);
    assert.ok(count('rtsp', 'forbidden') >= 1);
  });

  test('HTTPS serves the UI and the API with the configured certificate, and SIGHUP swaps in a new one', async () => {
    const port = gw.ports.HTTPS;
    assert.ok(port > 0, 'HTTPS listening was logged');
    const page = await httpsFetch(port, '/', ca);
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.equal((await httpsFetch(port, '/api/me', ca)).status, 401);
    const me = await httpsFetch(port, '/api/me', ca, ALICE);
    assert.equal(JSON.parse(me.body).user, 'alice');
    const pem = (path: string) => readFileSync(path, 'utf8').replace(/-----[^-]+-----|\s/g, '');
    const first = createHash('sha256')
      .update(Buffer.from(pem(join(certDir, 'cert.pem')), 'base64'))
      .digest('hex');
    assert.equal(page.fingerprint.replace(/:/g, '').toLowerCase(), first);
    await makeCert(certDir, 'second');
    const ca2 = readFileSync(join(certDir, 'cert.pem'));
    gw.proc.kill('SIGHUP');
    let after: Awaited<ReturnType<typeof httpsFetch>> | undefined;
    for (let i = 0; i < 50 && !after; i++) {
      await sleep(100);
      after = await httpsFetch(port, '/login.html', ca2).catch(() => undefined);
    }
    assert.ok(after, 'the new certificate is served after SIGHUP');
    assert.equal(after.status, 200);
    assert.notEqual(after.fingerprint, page.fingerprint);
    assert.match(gw.output(), /TLS certificate reloaded/);
  });

  test('mediagate --hash-password reads stdin and prints a hash (and with --rtsp-user the HA1) that the gateway accepts', async () => {
    const hash = async (args: string[], input: string) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/mediagate.js'), '--hash-password', ...args], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      child.stdin.end(input);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      clearTimeout(timer);
      return { code, out };
    };
    const plain = await hash([], 'pässword\n');
    assert.equal(plain.code, 0);
    assert.match(plain.out, /^scrypt\$16384\$8\$1\$\S+\n$/);
    assert.equal(await verifyPassword(plain.out.trim(), 'pässword'), true);
    const entry = await hash(['--rtsp-user', 'bob'], 'pw');
    assert.equal(entry.code, 0);
    const [, stored, ha1] =
      /^password: "(scrypt\$[^"]+)"\nrtsp_ha1: "([0-9a-f]{32})"\n$/.exec(entry.out) ?? [];
    assert.equal(await verifyPassword(stored, 'pw'), true);
    assert.equal(ha1, digestHa1('bob', 'mediagate', 'pw'));
    assert.equal((await hash([], '')).code, 2);
  });
});
