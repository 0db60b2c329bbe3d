/**
 * The ffmpeg argument templates, as in go2rtc (`internal/ffmpeg/ffmpeg.go`): input templates by
 * kind of input, one per output codec, and the output. Every key can be overridden, and new ones
 * added, in the config's `ffmpeg:` section; `#video=NAME`, `#audio=NAME` and `#input=NAME` name
 * them. `{input}` and `{output}` are substituted after the template is split into arguments, so a
 * URL or path with spaces stays one argument.
 */

export type Templates = Readonly<Record<string, string>>;

export const DEFAULT_TEMPLATES: Templates = {
  // No stdin interaction (it is not a terminal), no progress lines, only errors on stderr.
  global: '-hide_banner -nostdin -nostats -loglevel error',

  // inputs
  file: '-re -i {input}',
  http: '-fflags nobuffer -flags low_delay -i {input}',
  rtsp: '-fflags nobuffer -flags low_delay -timeout 5000000 -user_agent mediagate/ffmpeg -rtsp_flags prefer_tcp -i {input}',
  'rtsp/udp': '-fflags nobuffer -flags low_delay -timeout 5000000 -user_agent mediagate/ffmpeg -i {input}',

  // output: published back to the gateway's RTSP server
  output: '-user_agent ffmpeg/mediagate -rtsp_transport tcp -f rtsp {output}',

  // `-tune zerolatency`: no B-frames (WebRTC) and no lookahead; `-profile high -level 4.1`: what
  // every browser decodes; `-pix_fmt yuv420p`: what every decoder takes.
  h264: '-c:v libx264 -g 50 -profile:v high -level:v 4.1 -preset:v superfast -tune:v zerolatency -pix_fmt:v yuv420p',
  h265: '-c:v libx265 -g 50 -profile:v main -level:v 5.1 -preset:v superfast -tune:v zerolatency -pix_fmt:v yuv420p',
  mjpeg: '-c:v mjpeg',

  // `-min_comp 0`: resample to a steady timestamp step, which WebRTC audio needs.
  opus: '-c:a libopus -application:a lowdelay -min_comp 0',
  'opus/16000': '-c:a libopus -application:a lowdelay -min_comp 0 -ar:a 16000 -ac:a 1',
  pcmu: '-c:a pcm_mulaw -ar:a 8000 -ac:a 1',
  'pcmu/8000': '-c:a pcm_mulaw -ar:a 8000 -ac:a 1',
  'pcmu/16000': '-c:a pcm_mulaw -ar:a 16000 -ac:a 1',
  'pcmu/48000': '-c:a pcm_mulaw -ar:a 48000 -ac:a 1',
  pcma: '-c:a pcm_alaw -ar:a 8000 -ac:a 1',
  'pcma/8000': '-c:a pcm_alaw -ar:a 8000 -ac:a 1',
  'pcma/16000': '-c:a pcm_alaw -ar:a 16000 -ac:a 1',
  'pcma/48000': '-c:a pcm_alaw -ar:a 48000 -ac:a 1',
  aac: '-c:a aac', // keeps sample rate and channels
  'aac/16000': '-c:a aac -ar:a 16000 -ac:a 1',

  // hardware encoders (`#video=h264/vaapi`); `-bf 0`: no B-frames
  'h264/vaapi': '-c:v h264_vaapi -g 50 -bf 0 -profile:v high -level:v 4.1 -sei:v 0',
  'h265/vaapi': '-c:v hevc_vaapi -g 50 -bf 0 -profile:v main -level:v 5.1 -sei:v 0',
  'h264/v4l2m2m': '-c:v h264_v4l2m2m -g 50 -bf 0',
  'h265/v4l2m2m': '-c:v hevc_v4l2m2m -g 50 -bf 0',
  'h264/cuda': '-c:v h264_nvenc -g 50 -bf 0 -profile:v high -level:v auto -preset:v p2 -tune:v ll',
  'h265/cuda': '-c:v hevc_nvenc -g 50 -bf 0 -profile:v main -level:v auto',
};

/** Keys of the `ffmpeg:` section that are settings, not templates. */
export const SETTING_KEYS = new Set(['bin', 'transcode']);

/** Templates that name inputs and outputs rather than codecs (not valid as `#video=`/`#audio=`). */
const NOT_CODECS = new Set(['global', 'file', 'http', 'rtsp', 'rtsp/udp', 'output']);

/** The defaults with the config's overrides and additions. */
export function mergeTemplates(overrides: Readonly<Record<string, string>>): Templates {
  return { ...DEFAULT_TEMPLATES, ...overrides };
}

/** Whether `name` is a template a `#video=`/`#audio=` value may name. */
export function isCodecTemplate(templates: Templates, name: string): boolean {
  return Object.hasOwn(templates, name) && !NOT_CODECS.has(name);
}
