/**
 * `exec:COMMAND[#option=value...]` source URLs (go2rtc-compatible). Pure: a string in, a command
 * line and options out.
 *
 *   exec:ffmpeg -re -i /media/a.mp4 -c copy -f rtsp {output}      publishes back over RTSP
 *   exec:my-camera-tool --ts                                        writes MPEG-TS to stdout
 *   exec:sh -c "ffmpeg ... | tee /tmp/x.ts"#killsignal=sigint#killtimeout=5
 *
 * The command is split into arguments like a POSIX shell splits words (single and double quotes,
 * backslash escapes), with no expansion and no shell: use `sh -c "..."` for pipes. `{output}` is
 * replaced with the RTSP URL the command must publish to. Options:
 *
 *   #killsignal=sigterm   first signal when the source stops (sigterm, sigint, sighup, sigquit,
 *                         sigkill or a number); default sigterm
 *   #killtimeout=SECONDS  wait before SIGKILL; default 2
 *   #timeout=SECONDS      the first frame (or publish) must come within; also the no-data limit;
 *                         default 10
 *
 * A `#` followed by anything but a known `option=` stays part of the command. `#transcode=` is the
 * stream's transcoding policy and is ignored here.
 */
import { constants } from 'node:os';
import { BadRequestError } from '../../core/errors.ts';

/** `{output}`: where the command publishes, substituted with an RTSP URL of the gateway. */
export const OUTPUT_PLACEHOLDER = '{output}';

export interface ExecCommand {
  /** The program and its arguments, unexpanded (`{output}` still in place). */
  argv: string[];
  /** True when some argument contains `{output}`: the command publishes over RTSP. */
  publishes: boolean;
  killSignal: NodeJS.Signals;
  killTimeoutMs: number;
  /** Start timeout and no-data timeout, ms. */
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_EXEC_KILL_TIMEOUT_MS = 2000;
const MAX_SECONDS = 3600;
const OPTION = /^(killsignal|killtimeout|timeout|transcode)=(.*)$/i;

/** Parses an `exec:` URL; throws BadRequestError naming what is wrong. */
export function parseExecUrl(url: string): ExecCommand {
  if (!/^exec:/i.test(url)) throw new BadRequestError(`"${url.slice(0, 40)}" is not an exec: source`);
  const { command, options } = splitOptions(url.slice('exec:'.length));
  const argv = splitArgs(command);
  if (argv.length === 0) throw new BadRequestError('exec: source without a command');
  const out: ExecCommand = {
    argv,
    publishes: argv.some((a) => a.includes(OUTPUT_PLACEHOLDER)),
    killSignal: 'SIGTERM',
    killTimeoutMs: DEFAULT_EXEC_KILL_TIMEOUT_MS,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  };
  for (const [key, value] of options) {
    if (key === 'killsignal') out.killSignal = parseSignal(value);
    else if (key === 'killtimeout') out.killTimeoutMs = parseSeconds(key, value);
    else if (key === 'timeout') out.timeoutMs = parseSeconds(key, value);
  }
  return out;
}

/**
 * Splits trailing `#key=value` options off a command: from the end, as long as each `#` segment is
 * a known option; the first segment that is not one ends the options (it is part of the command).
 */
export function splitOptions(text: string): { command: string; options: [string, string][] } {
  const options: [string, string][] = [];
  let command = text;
  for (;;) {
    const i = command.lastIndexOf('#');
    if (i < 0) break;
    const m = OPTION.exec(command.slice(i + 1));
    if (!m) break;
    options.unshift([m[1].toLowerCase(), m[2]]);
    command = command.slice(0, i);
  }
  return { command, options };
}

/**
 * Splits a command line into words as a POSIX shell would, without expansions: whitespace
 * separates, `'...'` is literal, `"..."` keeps spaces and honours `\"`, `\\`, `\$` and `` \` ``,
 * a backslash outside quotes escapes the next character. Throws BadRequestError on an open quote.
 */
export function splitArgs(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new BadRequestError(`unterminated ' in command at character ${i}`);
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new BadRequestError('unterminated " in command');
        const d = line[i];
        if (d === '"') break;
        if (d === '\\' && i + 1 < n && '"\\$`'.includes(line[i + 1])) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\' && i + 1 < n) {
      word += line[i + 1];
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Replaces `{output}` in every argument. */
export function substituteOutput(argv: readonly string[], output: string): string[] {
  return argv.map((a) => a.split(OUTPUT_PLACEHOLDER).join(output));
}

function parseSignal(value: string): NodeJS.Signals {
  const v = value.trim().toUpperCase();
  if (/^\d{1,2}$/.test(v)) {
    const name = Object.entries(constants.signals).find(([, n]) => n === Number(v))?.[0];
    if (name) return name as NodeJS.Signals;
  } else {
    const name = v.startsWith('SIG') ? v : `SIG${v}`;
    if (name in constants.signals) return name as NodeJS.Signals;
  }
  throw new BadRequestError(`exec: bad option "#killsignal=${value.slice(0, 20)}"`);
}

function parseSeconds(key: string, value: string): number {
  const s = Number(value);
  if (value.trim() === '' || !Number.isFinite(s) || s <= 0 || s > MAX_SECONDS) {
    throw new BadRequestError(
      `exec: bad option "#${key}=${value.slice(0, 20)}": seconds from 0 to ${MAX_SECONDS}`,
    );
  }
  return Math.round(s * 1000);
}
