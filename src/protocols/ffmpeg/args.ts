/**
 * `ffmpeg:INPUT#option=value#...` source URLs (go2rtc-compatible) and the ffmpeg command line they
 * stand for. Pure: strings in, an argument vector out.
 *
 * INPUT is a URL (`rtsp://`, `http://`, ...), a file path, or the name of another stream (read back
 * from the gateway's RTSP server). Options, each may repeat where it makes sense:
 *
 *   #video=h264|h265|mjpeg|copy|NAME   a video output per value (NAME: a template); none: no video
 *   #audio=opus|aac|pcma|pcmu|copy|...  an audio output per value; none: no audio
 *                                       (no #video and no #audio at all: `-c copy` of everything)
 *   #width=N #height=N                 scale (the other side keeps the aspect ratio)
 *   #rotate=90|180|270|-90             rotate
 *   #bitrate=2M                        video bitrate limit
 *   #input=NAME                        another input template (`rtsp/udp`, or one from the config)
 *   #raw=ARGS                          arguments added as they are (config file only)
 *   #transcode=auto|never              the stream's transcoding policy (not an ffmpeg option)
 *
 * Unknown options are collected in `ignored` (go2rtc configs with `#hardware` keep working).
 */
import { BadRequestError } from '../../core/errors.ts';
import { splitArgs } from '../exec/command.ts';
import { isCodecTemplate, type Templates } from './templates.ts';

export type InputKind = 'url' | 'file' | 'name';

export interface FfmpegSpec {
  /** The INPUT part as written. */
  input: string;
  /** `url`: has a scheme; `file`: an absolute or `./` path; `name`: a stream name, or a relative file. */
  inputKind: InputKind;
  /** Lower-case scheme of a URL input. */
  scheme?: string;
  video: string[];
  audio: string[];
  width?: number;
  height?: number;
  rotate?: string;
  bitrate?: string;
  /** `#input=`: a template name, or (config only) an inline template with `{input}`. */
  inputTemplate?: string;
  raw: string[];
  transcode?: 'auto' | 'never';
  ignored: string[];
}

const KNOWN = new Set([
  'video',
  'audio',
  'width',
  'height',
  'rotate',
  'bitrate',
  'input',
  'raw',
  'transcode',
]);
const ROTATIONS: Record<string, string> = {
  '90': 'transpose=1',
  '180': 'transpose=1,transpose=1',
  '270': 'transpose=2',
  '-90': 'transpose=2',
};
const MAX_SIZE = 8192;

/** Parses an `ffmpeg:` URL (with or without the scheme); throws BadRequestError naming the problem. */
export function parseFfmpegUrl(url: string): FfmpegSpec {
  const body = url.replace(/^ffmpeg:/i, '');
  const hash = body.indexOf('#');
  const input = (hash < 0 ? body : body.slice(0, hash)).trim();
  if (!input) throw new BadRequestError(`ffmpeg: source "${url.slice(0, 60)}" has no input`);
  const spec: FfmpegSpec = { input, inputKind: 'name', video: [], audio: [], raw: [], ignored: [] };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (scheme) {
    spec.inputKind = 'url';
    spec.scheme = scheme[1].toLowerCase();
  } else if (/^(\/|\.\.?\/|~\/)/.test(input)) {
    spec.inputKind = 'file';
  }
  if (hash < 0) return spec;
  for (const item of body.slice(hash + 1).split('#')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : item.slice(eq + 1).trim();
    const bad = (why: string) =>
      new BadRequestError(`ffmpeg: bad option "#${key}=${value.slice(0, 40)}": ${why}`);
    switch (key) {
      case 'video':
      case 'audio':
        if (!value) throw bad('needs a codec (h264, opus, copy, ...)');
        spec[key].push(value.toLowerCase());
        break;
      case 'width':
      case 'height': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 16 || n > MAX_SIZE) throw bad(`pixels from 16 to ${MAX_SIZE}`);
        spec[key] = n;
        break;
      }
      case 'rotate':
        if (!ROTATIONS[value]) throw bad('90, 180, 270 or -90');
        spec.rotate = value;
        break;
      case 'bitrate':
        if (!/^\d{1,9}[kKmM]?$/.test(value)) throw bad('bits per second such as 800k or 2M');
        spec.bitrate = value;
        break;
      case 'input':
        if (!value) throw bad('needs a template name');
        spec.inputTemplate = value;
        break;
      case 'raw':
        if (value) spec.raw.push(value);
        break;
      case 'transcode':
        if (value !== 'auto' && value !== 'never') throw bad('auto or never');
        spec.transcode = value;
        break;
      default:
        if (!KNOWN.has(key)) spec.ignored.push(key);
    }
  }
  return spec;
}

/** URL schemes an `ffmpeg:` source from the API may read (no files, devices or listening sockets). */
export const API_SCHEMES = new Set(['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https']);

/**
 * Why this source may come from the config file only, or undefined when the API may add it: raw
 * arguments, an inline input template, a file, or a URL scheme that is not plainly network.
 */
export function configOnlyReason(spec: FfmpegSpec, templates: Templates): string | undefined {
  if (spec.raw.length > 0) return '#raw= arguments';
  if (spec.inputTemplate !== undefined && !Object.hasOwn(templates, spec.inputTemplate))
    return 'an inline #input= template';
  if (spec.inputKind === 'file') return `a file input (${spec.input.slice(0, 60)})`;
  if (spec.inputKind === 'url' && !API_SCHEMES.has(spec.scheme ?? ''))
    return `a ${spec.scheme}:// input (the API may use ${[...API_SCHEMES].join(', ')})`;
  return undefined;
}

/** Checks codec names against the templates; throws BadRequestError for an unknown one. */
export function validateCodecs(spec: FfmpegSpec, templates: Templates): void {
  for (const kind of ['video', 'audio'] as const) {
    for (const name of spec[kind]) {
      if (name === 'copy' || isCodecTemplate(templates, name)) continue;
      const known = Object.keys(templates).filter((k) => isCodecTemplate(templates, k));
      throw new BadRequestError(
        `ffmpeg: unknown ${kind} codec "${name.slice(0, 40)}" (known: copy, ${known.join(', ')})`,
      );
    }
  }
}

/**
 * How ffmpeg reaches the input, decided when it starts: a URL (given, or the gateway's own RTSP
 * URL of a stream) or a file.
 */
export interface ResolvedInput {
  kind: 'url' | 'file' | 'stream';
  /** The URL or path ffmpeg opens. */
  value: string;
}

/**
 * The loopback query for reading a stream: only the kinds this source outputs (go2rtc's rule),
 * e.g. `video` when there are only `#video=` options.
 */
export function streamQuery(spec: FfmpegSpec): string {
  if (spec.video.length > 0 && spec.audio.length === 0) return 'video';
  if (spec.audio.length > 0 && spec.video.length === 0) return 'audio';
  return 'video&audio';
}

/**
 * The full argument vector (the program first) for a spec and its resolved input, with `{output}`
 * left in place for the caller. Throws BadRequestError for unknown templates.
 */
export function buildFfmpegArgs(
  spec: FfmpegSpec,
  input: ResolvedInput,
  bin: string,
  templates: Templates,
): string[] {
  validateCodecs(spec, templates);
  const args = [bin, ...splitArgs(templates.global ?? '')];
  args.push(...inputArgs(spec, input, templates));
  const multi = spec.video.length > 1 || spec.audio.length > 1;
  const codecArgs: string[][] = spec.raw.map((raw) => splitArgs(templates[raw] ?? raw));
  for (const [i, name] of spec.video.entries()) codecArgs.push(codecTemplate('v', name, i, multi, templates));
  if (spec.bitrate)
    codecArgs.push(['-b:v', spec.bitrate, '-maxrate', spec.bitrate, '-bufsize', spec.bitrate]);
  for (const [i, name] of spec.audio.entries()) codecArgs.push(codecTemplate('a', name, i, multi, templates));
  for (const c of codecArgs) args.push(...c);
  if (spec.video.length === 0 && spec.audio.length === 0) args.push('-c', 'copy');
  else if (spec.video.length === 0) args.push('-vn');
  else if (spec.audio.length === 0) args.push('-an');
  const filters: string[] = [];
  if (spec.width !== undefined || spec.height !== undefined) {
    // -2: the side not given keeps the aspect ratio and stays even (what yuv420p encoders need).
    filters.push(`scale=${spec.width ?? -2}:${spec.height ?? -2}`);
  }
  if (spec.rotate) filters.push(ROTATIONS[spec.rotate]);
  if (filters.length > 0) args.push('-vf', filters.join(','));
  args.push(...splitArgs(templates.output ?? ''));
  return args;
}

function inputArgs(spec: FfmpegSpec, input: ResolvedInput, templates: Templates): string[] {
  let name: string;
  const pre: string[] = [];
  if (input.kind === 'file') name = 'file';
  else if (input.kind === 'stream') name = 'rtsp';
  else {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input.value)?.[1].toLowerCase() ?? '';
    if (scheme === 'rtsp' || scheme === 'rtsps') {
      name = 'rtsp';
      // Only the kinds this source outputs are set up (go2rtc's rule).
      const q = streamQuery(spec);
      pre.push('-allowed_media_types', q === 'video&audio' ? 'video+audio' : q);
    } else if (scheme === 'http' || scheme === 'https' || scheme === 'rtmp' || scheme === 'rtmps')
      name = 'http';
    else return ['-i', input.value];
  }
  const template = spec.inputTemplate
    ? (templates[spec.inputTemplate] ?? spec.inputTemplate)
    : templates[name];
  const words = splitArgs(template ?? '-i {input}');
  if (!words.some((w) => w.includes('{input}'))) {
    throw new BadRequestError(
      `ffmpeg: input template "${(spec.inputTemplate ?? name).slice(0, 40)}" has no {input}`,
    );
  }
  return [...pre, ...words.map((w) => w.split('{input}').join(input.value))];
}

/** The arguments of `#video=NAME` / `#audio=NAME`, mapped to output stream `i` when there are several. */
function codecTemplate(
  kind: 'v' | 'a',
  name: string,
  i: number,
  multi: boolean,
  templates: Templates,
): string[] {
  const words = name === 'copy' ? [`-c:${kind}`, 'copy'] : splitArgs(templates[name]);
  if (!multi) return words;
  // As go2rtc: each output of a kind takes the first input stream of that kind again.
  return ['-map', `0:${kind}:0?`, ...words.map((w) => (w === `-c:${kind}` ? `-c:${kind}:${i}` : w))];
}
