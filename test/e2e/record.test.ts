import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

interface Probe {
  ok: boolean;
  codecs: string[];
  duration: number;
  videoPackets: number;
  stderr: string;
}

/** ffprobe of a whole file: codecs, container duration, video packets actually read. */
function probe(path: string): Probe {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_packets',
      '-show_entries',
      'stream=codec_type,codec_name,nb_read_packets:format=duration',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8', timeout: 15000 },
  );
  const out = r.status === 0 ? JSON.parse(r.stdout) : { streams: [], format: {} };
  const streams = out.streams as { codec_type: string; codec_name: string; nb_read_packets: string }[];
  return {
    ok: r.status === 0 && r.stderr.trim() === '',
    codecs: streams.map((s) => s.codec_name),
    duration: Number(out.format?.duration),
    videoPackets: Number(streams.find((s) => s.codec_type === 'video')?.nb_read_packets ?? 0),
    stderr: r.stderr,
  };
}

const segments = (dir: string) => {
  try {
    return readdirSync(dir)
      .filter((n) => /^\d{4}-.*\.mp4$/.test(n))
      .sort();
  } catch {
    return [];
  }
};
const parts = (dir: string) => {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.part'));
  } catch {
    return [];
  }
};

async function until(
  ready: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ready())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('gateway process: recording', { timeout: 70000 }, () => {
  const rec = mkdtempSync(join(tmpdir(), 'mediagate-rec-'));
  const demoDir = join(rec, 'demo');
  const gateways: GatewayProcess[] = [];
  const start = async (yaml: string) => {
    const gw = await startGateway(yaml);
    gateways.push(gw);
    return gw;
  };

  after(async () => {
    for (const gw of gateways)
      if (gw.proc.exitCode === null && gw.proc.signalCode === null) await gw.stop('SIGKILL');
    for (const gw of gateways) await gw.stop(); // removes its temp folder
    rmSync(rec, { recursive: true, force: true });
  });

  test('POST /api/record for 30 s with 10 s segments gives three MP4 files that ffprobe reads as complete H.264 + Opus of about 10 s each', {
    timeout: 50000,
  }, async () => {
    const gw = await start(`record:\n  path: ${rec}\n  segment: 10\n`);
    const started = await gw.api('/api/record?src=demo', { method: 'POST' });
    assert.equal(started.status, 201, await started.clone().text());
    // The recording begins with the first keyframe: 30 s are counted from there.
    let t0 = 0;
    await until(
      async () => {
        const [job] = (await (await gw.api('/api/record')).json()) as { file?: string }[];
        t0 = performance.now();
        return job?.file !== undefined;
      },
      5000,
      'first segment',
    );
    await sleep(29_700 - (performance.now() - t0));
    const stopped = await gw.api('/api/record?src=demo', { method: 'DELETE' });
    assert.equal(stopped.status, 200);
    assert.equal(((await stopped.json()) as { segments: number }).segments, 3);

    const names = segments(demoDir);
    assert.equal(names.length, 3, `${names}`);
    assert.deepEqual(parts(demoDir), [], 'nothing left unfinished');
    for (const [i, name] of names.entries()) {
      const p = probe(join(demoDir, name));
      assert.ok(p.ok, `${name}: ${p.stderr}`);
      assert.deepEqual(p.codecs, ['h264', 'opus'], name);
      const expected = i < 2 ? 10 : 9.7;
      assert.ok(
        Math.abs(p.duration - expected) < 0.5,
        `${name}: ${p.duration} s, about ${expected} expected`,
      );
      assert.ok(Math.abs(p.videoPackets - expected * 25) <= 12, `${name}: ${p.videoPackets} video frames`);
    }
    const listed = (await (await gw.api('/api/recordings?src=demo')).json()) as {
      name: string;
      duration: number;
      size: number;
      url: string;
    }[];
    assert.deepEqual(
      listed.map((s) => s.name),
      names,
    );
    assert.ok(listed.slice(0, 2).every((s) => Math.abs(s.duration - 10) < 0.1));
    const served = await gw.api(listed[0].url);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), readFileSync(join(demoDir, names[0])));
    await gw.stop();
  });

  test('SIGKILL during recording leaves every earlier segment readable, and the next start repairs the torn .part', {
    timeout: 40000,
  }, async () => {
    const dir = join(rec, 'kill');
    const first = await start(`record:\n  path: ${dir}\n  segment: 1\n  streams: [demo]\n`);
    const demo = join(dir, 'demo');
    await until(() => segments(demo).length >= 3, 15000, 'three finished segments');
    await sleep(400); // well into the next segment
    first.proc.kill('SIGKILL');
    await until(() => first.proc.exitCode !== null || first.proc.signalCode !== null, 5000, 'exit');
    const finished = segments(demo);
    assert.ok(finished.length >= 3);
    for (const name of finished) {
      const p = probe(join(demo, name));
      assert.ok(p.ok, `${name}: ${p.stderr}`);
      assert.deepEqual(p.codecs, ['h264', 'opus'], name);
      assert.ok(Math.abs(p.duration - 1) < 0.2, `${name}: ${p.duration} s`);
    }
    const torn = parts(demo);
    assert.equal(torn.length, 1, 'the segment being written when the process died');

    // The next start repairs the part before recording again; SIGTERM finishes the open segment.
    const second = await start(`record:\n  path: ${dir}\n  segment: 1\n  streams: [demo]\n`);
    assert.ok(!parts(demo).includes(torn[0]), 'the torn part is gone');
    const repaired = torn[0].slice(1, -'.part'.length);
    assert.ok(segments(demo).includes(repaired), `${torn[0]} became ${repaired}`);
    assert.match(second.output(), /repaired a segment left unfinished by a crash/);
    const p = probe(join(demo, repaired));
    assert.ok(p.ok && p.duration > 0.2 && p.duration < 1.1, `${repaired}: ${p.duration} s ${p.stderr}`);
    await until(() => segments(demo).length >= finished.length + 2, 10000, 'a new segment');
    const { code } = await second.stop();
    assert.equal(code, 0);
    assert.deepEqual(parts(demo), [], 'shutdown finished the open segment');
    for (const name of segments(demo)) assert.ok(probe(join(demo, name)).ok, name);
  });
});

before(() => {
  const r = spawnSync('ffprobe', ['-version'], { timeout: 5000 });
  assert.equal(r.status, 0, 'ffprobe is needed');
});
