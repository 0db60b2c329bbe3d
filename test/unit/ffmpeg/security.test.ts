import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { loadConfig, parseConfigText } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/schema.ts';
import { BadRequestError } from '../../../src/core/errors.ts';
import { StreamRegistry } from '../../../src/core/registry.ts';
import { SchemeTable } from '../../../src/core/schemes.ts';
import { createLogging } from '../../../src/log/logger.ts';
import type { GatewayContext } from '../../../src/module.ts';
import { createFfmpegModule } from '../../../src/protocols/ffmpeg/module.ts';
import { RecordingConsumer } from '../../helpers/fakes.ts';
import { activeResources, assertNoLeaks, type ResourceCounts } from '../../helpers/leaks.ts';

let before: ResourceCounts;
const registries: StreamRegistry[] = [];

/** A registry with the ffmpeg module's schemes, as a gateway with `api.allow_exec` set or not has it. */
function gateway(allowExec: boolean, bin = 'ffmpeg'): StreamRegistry {
  const schemes = new SchemeTable();
  const registry = new StreamRegistry(schemes);
  registries.push(registry);
  const config = {
    api: { allowExec },
    ffmpeg: { bin, transcode: 'auto', templates: {} },
  } as unknown as Config;
  const ctx = {
    config,
    logging: createLogging({ level: 'silent' }),
    registry,
    schemes,
  } as unknown as GatewayContext;
  createFfmpegModule(ctx);
  return registry;
}

function refused(message: RegExp) {
  return (err: Error) => {
    assert.ok(err instanceof BadRequestError, String(err));
    assert.match(err.message, message);
    return true;
  };
}

beforeEach(() => {
  before = activeResources();
});
afterEach(async () => {
  for (const r of registries.splice(0)) r.close();
  await assertNoLeaks(before);
});

describe('exec: and ffmpeg: from the API', { timeout: 10000 }, () => {
  test('registry.create() from the API refuses exec: sources; the config file may define them', async () => {
    const registry = gateway(false);
    await assert.rejects(
      registry.create('x', ['exec:ffmpeg -i /dev/video0 -f rtsp {output}'], 'api'),
      refused(/"exec:" sources run programs and may only be defined in the config file/),
    );
    assert.equal(registry.get('x'), undefined);
    await registry.create('y', ['exec:ffmpeg -i /dev/video0 -f rtsp {output}'], 'config');
  });

  test('registry.create() from the API refuses ffmpeg: with raw arguments, inline input templates, files and local URL schemes', async () => {
    const registry = gateway(false);
    for (const [url, why] of [
      ['ffmpeg:rtsp://cam/s#video=h264#raw=-vf hflip', /#raw= arguments/],
      ['ffmpeg:rtsp://cam/s#input=-f lavfi -i {input}', /inline #input= template/],
      ['ffmpeg:/etc/passwd#video=h264', /a file input/],
      ['ffmpeg:file:///etc/shadow', /a file:\/\/ input/],
      ['ffmpeg:tcp://0.0.0.0:9000?listen', /a tcp:\/\/ input/],
    ] as const) {
      await assert.rejects(registry.create('x', [url], 'api'), refused(why), url);
      await assert.rejects(
        registry.create('x', [url], 'api'),
        refused(/may only be defined in the config file \(or with api\.allow_exec: true\)/),
      );
      await registry.create(`cfg ${registry.names().length}`, [url], 'config');
    }
  });

  test('registry.create() from the API accepts ffmpeg: with a network URL or a stream name and known codecs', async () => {
    const registry = gateway(false);
    await registry.create('a', ['ffmpeg:rtsp://cam/s#video=h264#audio=opus#width=640'], 'api');
    await registry.create('b', ['ffmpeg:a#video=h265#input=rtsp/udp'], 'api');
    await assert.rejects(
      registry.create('c', ['ffmpeg:rtsp://cam/s#video=-vf x'], 'api'),
      refused(/unknown video codec/),
    );
    await assert.rejects(registry.create('d', ['ffmpeg:d#video=h264'], 'api'), refused(/cannot read itself/));
  });

  test('an ffmpeg: source from the API whose name is no stream is refused at start, not read as a file', async () => {
    const registry = gateway(false);
    const stream = await registry.create('a', ['ffmpeg:secrets.mp4#video=h264'], 'api');
    const c = new RecordingConsumer();
    await assert.rejects(
      stream.addConsumer(c),
      /no stream "secrets\.mp4" \(files may only be read from the config file\)/,
    );
    c.close();
  });

  test('api.allow_exec lets the API add what otherwise the config file only may', async () => {
    const registry = gateway(true);
    await registry.create('x', ['exec:tool --ts'], 'api');
    await registry.create('y', ['ffmpeg:/srv/a.mp4#raw=-vf hflip'], 'api');
  });

  test('a consumer of an ffmpeg: source without ffmpeg is told ffmpeg is missing and what needs it', async () => {
    const registry = gateway(false, '/nonexistent/ffmpeg');
    const stream = await registry.create('a', ['ffmpeg:rtsp://cam/s#video=h264'], 'config');
    const c = new RecordingConsumer();
    await assert.rejects(
      stream.addConsumer(c),
      /ffmpeg not found \(ffmpeg\.bin=\/nonexistent\/ffmpeg\): needed for ffmpeg: sources, transcoding and snapshots/,
    );
    c.close();
  });

  test('loadConfig() reads ffmpeg.bin, ffmpeg.transcode, templates and api.allow_exec, with defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mediagate-ffmpeg-'));
    try {
      const file = join(dir, 'a.yaml');
      writeFileSync(
        file,
        'api:\n  allow_exec: true\nffmpeg:\n  bin: /usr/bin/ffmpeg\n  transcode: never\n  h264: "-c:v libx264 -preset ultrafast"\n',
      );
      const config = loadConfig([file]);
      assert.equal(config.api.allowExec, true);
      assert.deepEqual(config.ffmpeg, {
        bin: '/usr/bin/ffmpeg',
        transcode: 'never',
        templates: { h264: '-c:v libx264 -preset ultrafast' },
      });
      writeFileSync(file, 'demo: false\n');
      const defaults = loadConfig([file]);
      assert.equal(defaults.api.allowExec, false);
      assert.deepEqual(defaults.ffmpeg, { bin: 'ffmpeg', transcode: 'auto', templates: {} });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.throws(
      () => parseConfigText('ffmpeg:\n  transcode: sometimes\n', 'test.yaml'),
      /ffmpeg\.transcode/,
    );
    assert.throws(() => parseConfigText('ffmpeg:\n  h264: [1]\n', 'test.yaml'), /ffmpeg\.h264/);
  });
});
