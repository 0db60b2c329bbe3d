import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestError } from '../../../src/core/errors.ts';
import {
  parseExecUrl,
  splitArgs,
  splitOptions,
  substituteOutput,
} from '../../../src/protocols/exec/command.ts';
import {
  buildFfmpegArgs,
  configOnlyReason,
  parseFfmpegUrl,
  streamQuery,
} from '../../../src/protocols/ffmpeg/args.ts';
import { DEFAULT_TEMPLATES, mergeTemplates } from '../../../src/protocols/ffmpeg/templates.ts';

const T = DEFAULT_TEMPLATES;
const GLOBAL = ['ffmpeg', '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
const OUTPUT = ['-user_agent', 'ffmpeg/mediagate', '-rtsp_transport', 'tcp', '-f', 'rtsp', '{output}'];
const H264 = splitArgs(T.h264);
const OPUS = splitArgs(T.opus);

function build(
  url: string,
  value?: string,
  kind: 'url' | 'file' | 'stream' = 'url',
  templates = T,
): string[] {
  const spec = parseFfmpegUrl(url);
  return buildFfmpegArgs(spec, { kind, value: value ?? spec.input }, 'ffmpeg', templates);
}

describe('ffmpeg: URLs', () => {
  test('parseFfmpegUrl() tells URLs, files and stream names apart and collects repeated options', () => {
    const a = parseFfmpegUrl('ffmpeg:rtsp://cam/1#video=h264#video=copy#audio=OPUS#width=640#hardware');
    assert.equal(a.inputKind, 'url');
    assert.equal(a.scheme, 'rtsp');
    assert.deepEqual(a.video, ['h264', 'copy']);
    assert.deepEqual(a.audio, ['opus']);
    assert.equal(a.width, 640);
    assert.deepEqual(a.ignored, ['hardware'], 'go2rtc options we do not know are kept aside, not fatal');
    assert.equal(parseFfmpegUrl('ffmpeg:/media/a b.mp4').inputKind, 'file');
    assert.equal(parseFfmpegUrl('ffmpeg:./a.mp4').inputKind, 'file');
    assert.equal(parseFfmpegUrl('ffmpeg:door#video=h264').inputKind, 'name');
    assert.equal(parseFfmpegUrl('ffmpeg:door#transcode=never').transcode, 'never');
  });

  test('parseFfmpegUrl() rejects with BadRequestError naming the option for bad values', () => {
    for (const [url, what] of [
      ['ffmpeg:', 'has no input'],
      ['ffmpeg:#video=h264', 'has no input'],
      ['ffmpeg:x#width=abc', '#width=abc'],
      ['ffmpeg:x#height=99999', '#height=99999'],
      ['ffmpeg:x#rotate=45', '#rotate=45'],
      ['ffmpeg:x#video=', '#video='],
      ['ffmpeg:x#bitrate=fast', '#bitrate=fast'],
      ['ffmpeg:x#transcode=maybe', '#transcode=maybe'],
    ]) {
      assert.throws(
        () => parseFfmpegUrl(url),
        (err: Error) => err instanceof BadRequestError && err.message.includes(what),
        url,
      );
    }
  });

  test("buildFfmpegArgs() makes go2rtc's command for an RTSP camera to H.264 + Opus, published to {output}", () => {
    assert.deepEqual(build('ffmpeg:rtsp://cam:554/s1#video=h264#audio=opus'), [
      ...GLOBAL,
      '-allowed_media_types',
      'video+audio',
      ...splitArgs(T.rtsp).map((w) => (w === '{input}' ? 'rtsp://cam:554/s1' : w)),
      ...H264,
      ...OPUS,
      ...OUTPUT,
    ]);
  });

  test('buildFfmpegArgs() copies everything without codecs, and drops the kind that has none', () => {
    const copy = build('ffmpeg:http://cam/video.mjpg');
    assert.deepEqual(copy.slice(-OUTPUT.length - 2, -OUTPUT.length), ['-c', 'copy']);
    assert.ok(copy.includes('nobuffer'), 'the http template');
    const videoOnly = build('ffmpeg:rtsp://cam/s#video=copy');
    assert.deepEqual(videoOnly.slice(GLOBAL.length, GLOBAL.length + 2), ['-allowed_media_types', 'video']);
    assert.deepEqual(videoOnly.slice(-OUTPUT.length - 3, -OUTPUT.length), ['-c:v', 'copy', '-an']);
    const audioOnly = build('ffmpeg:rtsp://cam/s#audio=pcma');
    assert.deepEqual(audioOnly.slice(-OUTPUT.length - 1, -OUTPUT.length), ['-vn']);
    assert.ok(audioOnly.includes('pcm_alaw'));
  });

  test('buildFfmpegArgs() keeps a file path or stream URL with spaces as one argument', () => {
    const file = build('ffmpeg:/srv/my clips/a.mp4#video=h264', undefined, 'file');
    assert.deepEqual(file.slice(GLOBAL.length, GLOBAL.length + 3), ['-re', '-i', '/srv/my clips/a.mp4']);
    const url = 'rtsp://127.0.0.1:8554/front%20door?video';
    const stream = build('ffmpeg:front door#video=h264', url, 'stream');
    assert.equal(stream[stream.indexOf('-i') + 1], url);
    assert.equal(streamQuery(parseFfmpegUrl('x#video=h264')), 'video');
    assert.equal(streamQuery(parseFfmpegUrl('x#audio=opus')), 'audio');
    assert.equal(streamQuery(parseFfmpegUrl('x#video=h264#audio=opus')), 'video&audio');
  });

  test('buildFfmpegArgs() turns width, height and rotate into one -vf chain, keeping the aspect ratio even', () => {
    const args = build('ffmpeg:rtsp://c/s#video=h264#width=640#rotate=90');
    assert.equal(args[args.indexOf('-vf') + 1], 'scale=640:-2,transpose=1');
    const h = build('ffmpeg:rtsp://c/s#video=h264#height=360');
    assert.equal(h[h.indexOf('-vf') + 1], 'scale=-2:360');
  });

  test('buildFfmpegArgs() maps each of several outputs of a kind to the first input stream, as go2rtc', () => {
    const args = build('ffmpeg:rtsp://c/s#video=h264#video=copy');
    const at = args.indexOf('-map');
    assert.deepEqual(args.slice(at, at + 4), ['-map', '0:v:0?', '-c:v:0', 'libx264']);
    assert.ok(args.join(' ').includes('-map 0:v:0? -c:v:1 copy'));
  });

  test("buildFfmpegArgs() uses #input=, #raw= and the config's templates, and refuses unknown codecs", () => {
    const templates = mergeTemplates({ h264: '-c:v libx264 -preset ultrafast', mine: '-vf hflip' });
    const args = build(
      'ffmpeg:rtsp://c/s#input=rtsp/udp#video=h264#raw=-r 10#raw=mine',
      undefined,
      'url',
      templates,
    );
    assert.ok(!args.includes('prefer_tcp'), 'the rtsp/udp template');
    const joined = args.join(' ');
    assert.ok(joined.includes('-r 10 -vf hflip -c:v libx264 -preset ultrafast -an'), joined);
    assert.throws(() => build('ffmpeg:rtsp://c/s#video=vp9'), /unknown video codec "vp9"/);
    assert.throws(
      () => build('ffmpeg:rtsp://c/s#video=rtsp'),
      /unknown video codec "rtsp"/,
      'input templates are not codecs',
    );
    assert.throws(() => build('ffmpeg:rtsp://c/s#input=-i x'), /has no \{input\}/);
  });

  test('configOnlyReason() names raw arguments, inline input templates, files and non-network URLs', () => {
    const reason = (url: string) => configOnlyReason(parseFfmpegUrl(url), T);
    assert.equal(reason('ffmpeg:rtsp://cam/s#video=h264'), undefined);
    assert.equal(reason('ffmpeg:door#audio=opus#input=rtsp/udp'), undefined);
    assert.match(reason('ffmpeg:rtsp://cam/s#raw=-vf hflip') ?? '', /#raw=/);
    assert.match(reason('ffmpeg:rtsp://cam/s#input=-f v4l2 -i {input}') ?? '', /inline #input=/);
    assert.match(reason('ffmpeg:/etc/passwd') ?? '', /file input/);
    assert.match(reason('ffmpeg:file:///etc/passwd') ?? '', /file:\/\/ input/);
    assert.match(reason('ffmpeg:tcp://0.0.0.0:9000?listen') ?? '', /tcp:\/\/ input/);
  });
});

describe('exec: URLs', () => {
  test('splitArgs() splits like a shell without expanding anything', () => {
    assert.deepEqual(splitArgs(`a  'b c' "d \\"e\\" $HOME" f\\ g ''`), [
      'a',
      'b c',
      'd "e" $HOME',
      'f g',
      '',
    ]);
    assert.throws(() => splitArgs(`a 'b`), BadRequestError);
    assert.throws(() => splitArgs(`a "b`), BadRequestError);
  });

  test('parseExecUrl() reads trailing options and keeps a # that is not one in the command', () => {
    const cmd = parseExecUrl(
      'exec:sh -c "echo #1 > /dev/null; run {output}"#killsignal=sigint#killtimeout=0.5#timeout=3',
    );
    assert.deepEqual(cmd.argv, ['sh', '-c', 'echo #1 > /dev/null; run {output}']);
    assert.equal(cmd.publishes, true);
    assert.equal(cmd.killSignal, 'SIGINT');
    assert.equal(cmd.killTimeoutMs, 500);
    assert.equal(cmd.timeoutMs, 3000);
    const ts = parseExecUrl('exec:tool --ts#transcode=never');
    assert.deepEqual(ts.argv, ['tool', '--ts']);
    assert.equal(ts.publishes, false);
    assert.equal(parseExecUrl('exec:x#killsignal=9').killSignal, 'SIGKILL');
    assert.deepEqual(splitOptions('a#b#timeout=1').options, [['timeout', '1']]);
    assert.deepEqual(substituteOutput(['-f', 'rtsp', 'x={output}'], 'rtsp://h/p'), [
      '-f',
      'rtsp',
      'x=rtsp://h/p',
    ]);
  });

  test('parseExecUrl() rejects an empty command and bad options with BadRequestError', () => {
    assert.throws(() => parseExecUrl('exec:'), /without a command/);
    assert.throws(() => parseExecUrl('exec:x#killsignal=SIGFOO'), /#killsignal=SIGFOO/);
    assert.throws(() => parseExecUrl('exec:x#timeout=0'), /#timeout=0/);
    assert.throws(() => parseExecUrl('exec:x#killtimeout=abc'), /#killtimeout=abc/);
  });
});
