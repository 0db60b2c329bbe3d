/**
 * Loading the config: YAML files in order (later wins), `${ENV}` and `${ENV:default}` expansion in
 * string values, validation against the schema with errors that name the file, line and key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import {
  type AuthConfig,
  type AuthUserConfig,
  type Config,
  configSchema,
  DEFAULTS,
  type DiagConfig,
  type FfmpegConfig,
  KNOWN_SECTIONS,
  type RecordConfig,
  type RecordRetention,
} from './schema.ts';

/** A config file that cannot be used; the message names file, line, key and what was expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: true });
const validateFile = ajv.compile(configSchema);

export const DEFAULT_CONFIG_FILE = 'mediagate.yaml';
/** Aliases a config may resolve (yaml's default); more is an alias bomb. */
const MAX_ALIAS_COUNT = 100;

/** Loads the given files, or `mediagate.yaml` in the working directory if it exists, or defaults. */
export function loadConfig(files: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const paths =
    files.length > 0
      ? files.map((f) => resolve(f))
      : existsSync(DEFAULT_CONFIG_FILE)
        ? [resolve(DEFAULT_CONFIG_FILE)]
        : [];
  const raws = paths.map((path) => readConfigFile(path, env));
  return normalize(mergeAll(raws), paths);
}

/** Parses and validates one file; returns its plain object with environment variables expanded. */
export function readConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read config file: ${(err as Error).message}`);
  }
  return parseConfigText(text, path, env);
}

export function parseConfigText(
  text: string,
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lines.linePos(e.pos[0]);
    throw new ConfigError(`${path}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws a ReferenceError for an alias whose anchor comes later or not at all, and for
    // an alias bomb ("billion laughs"); both are the file's fault, not ours.
    throw new ConfigError(`${path}: invalid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const value = expandEnv(js ?? {}, env, (name) => {
    throw new ConfigError(`${path}: environment variable \${${name}} is not set and has no default`);
  });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${path}:1: the config must be a mapping of sections (streams:, api:, rtsp:, ...)`);
  }
  if (!validateFile(value))
    throw new ConfigError(describe(pickError(validateFile.errors ?? []), doc, lines, path));
  return value as Record<string, unknown>;
}

/** The error to report: an `anyOf` says more than the failures of its branches. */
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword === 'anyOf') ?? errors[0];
}

function describe(error: ErrorObject | undefined, doc: Document, lines: LineCounter, path: string): string {
  if (!error) return `${path}: invalid config`;
  const keys = error.instancePath
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  let expected = error.message ?? 'invalid value';
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty);
    keys.push(extra);
    expected = `unknown key "${extra}"`;
  } else if (error.keyword === 'enum') {
    expected = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  } else if (error.keyword === 'anyOf' && keys[0] === 'record') {
    const last = keys.at(-1);
    expected =
      last === 'age'
        ? 'must be seconds or an age such as "90s", "30m", "12h", "7d", "2w"'
        : 'must be bytes or a size such as "500MB", "10GB", "1.5TiB"';
  } else if (error.keyword === 'anyOf' && keys[0] === 'streams') {
    expected = 'must be a source URL or a list of source URLs';
  } else if (error.keyword === 'pattern' && keys.at(-1)?.endsWith('listen')) {
    expected = 'must be "[host]:port" such as ":1984" or "127.0.0.1:1984", or "" to disable';
  }
  const node = findNode(doc, keys);
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  const where = range ? `:${lines.linePos(range[0]).line}` : '';
  return `${path}${where}: ${keys.join('.') || '(top level)'}: ${expected}`;
}

/** The YAML node at a key path, or its deepest existing ancestor (to point at the line). */
function findNode(doc: Document, keys: string[]): unknown {
  let node: unknown = doc.contents;
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (!pair) break;
      // A null value has no position: point at its key instead.
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item = node.items[Number(key)];
      if (item === undefined) break;
      node = item;
    } else break;
  }
  return node;
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/** Replaces `${NAME}` and `${NAME:default}` in every string value, recursively. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, missing: (name: string) => never): unknown {
  if (typeof value === 'string') {
    return value.replace(
      ENV_REF,
      (_m, name: string, def: string | undefined) => env[name] ?? def ?? missing(name),
    );
  }
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, missing)]));
  }
  return value;
}

/** Later files win: objects merge key by key, everything else is replaced. */
export function mergeAll(objects: Record<string, unknown>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const obj of objects) mergeInto(out, obj);
  return out;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) {
    const t = target[k];
    if (isPlainObject(t) && isPlainObject(v)) mergeInto(t, v);
    else target[k] = isPlainObject(v) ? { ...v } : v;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Section = Record<string, unknown>;

function normalize(raw: Record<string, unknown>, files: string[]): Config {
  const section = (name: string): Section => (isPlainObject(raw[name]) ? (raw[name] as Section) : {});
  const streams: Record<string, string[]> = {};
  for (const [name, v] of Object.entries(section('streams'))) {
    streams[name] = v == null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
  }
  const api = section('api');
  const rtsp = section('rtsp');
  const rtmp = section('rtmp');
  const webrtc = section('webrtc');
  const log = section('log');
  const source = section('source');
  const diag = section('diag');
  const { level, format: _format, ...modules } = log;
  return {
    streams,
    api: {
      listen: (api.listen as string | undefined) ?? DEFAULTS.api.listen,
      origin: api.origin as string | undefined,
      maxBodyBytes: (api.max_body_bytes as number | undefined) ?? DEFAULTS.api.maxBodyBytes,
      tlsListen: api.tls_listen as string | undefined,
      tlsCert: typeof api.tls_cert === 'string' ? resolve(api.tls_cert) : undefined,
      tlsKey: typeof api.tls_key === 'string' ? resolve(api.tls_key) : undefined,
      fileRoot: typeof api.file_root === 'string' ? resolve(api.file_root) : undefined,
      allowExec: api.allow_exec === true,
    },
    rtsp: {
      listen: (rtsp.listen as string | undefined) ?? DEFAULTS.rtsp.listen,
      username: rtsp.username as string | undefined,
      password: rtsp.password as string | undefined,
      defaultQuery: rtsp.default_query as string | undefined,
      rtpListen: rtsp.rtp_listen as string | undefined,
      rtcpListen: rtsp.rtcp_listen as string | undefined,
      maxConnections: (rtsp.max_connections as number | undefined) ?? DEFAULTS.rtsp.maxConnections,
      sessionTimeoutMs:
        rtsp.session_timeout !== undefined
          ? Number(rtsp.session_timeout) * 1000
          : DEFAULTS.rtsp.sessionTimeoutMs,
      tlsListen: rtsp.tls_listen as string | undefined,
    },
    rtmp: {
      listen: (rtmp.listen as string | undefined) ?? DEFAULTS.rtmp.listen,
      maxConnections: (rtmp.max_connections as number | undefined) ?? DEFAULTS.rtmp.maxConnections,
    },
    webrtc: {
      listen: (webrtc.listen as string | undefined) ?? DEFAULTS.webrtc.listen,
      candidates: (webrtc.candidates as string[] | undefined) ?? DEFAULTS.webrtc.candidates,
      transport: (webrtc.transport as Config['webrtc']['transport'] | undefined) ?? DEFAULTS.webrtc.transport,
    },
    log: {
      level: (level as Config['log']['level'] | undefined) ?? DEFAULTS.log.level,
      modules: modules as Config['log']['modules'],
    },
    source: {
      idleTimeoutMs:
        source.idle_timeout !== undefined
          ? Number(source.idle_timeout) * 1000
          : DEFAULTS.source.idleTimeoutMs,
    },
    diag: normalizeDiag(diag),
    ffmpeg: normalizeFfmpeg(section('ffmpeg')),
    record: normalizeRecord(section('record')),
    auth: isPlainObject(raw.auth) ? normalizeAuth(raw.auth) : undefined,
    demo: raw.demo !== false,
    files,
    ignoredSections: Object.keys(raw).filter((k) => !KNOWN_SECTIONS.has(k)),
  };
}

/** The `auth:` section (validated: `users` is a non-empty map of user entries). */
function normalizeAuth(auth: Section): AuthConfig {
  const list = (v: unknown): string[] | '*' =>
    v === undefined || v === null ? [] : v === '*' ? '*' : Array.isArray(v) ? v.map(String) : [String(v)];
  const users: Record<string, AuthUserConfig> = {};
  for (const [name, u] of Object.entries(auth.users as Record<string, Section>)) {
    users[name] = {
      password: String(u.password),
      role: u.role === 'admin' ? 'admin' : 'viewer',
      streams: list(u.streams),
      publish: list(u.publish),
      rtspHa1: typeof u.rtsp_ha1 === 'string' ? u.rtsp_ha1.toLowerCase() : undefined,
    };
  }
  return {
    users,
    localhostBypass: auth.localhost_bypass === true,
    tokenSecret: auth.token_secret as string | undefined,
    tokenMaxTtlS: auth.token_max_ttl !== undefined ? Number(auth.token_max_ttl) : DEFAULTS.auth.tokenMaxTtlS,
    publicMetrics: auth.public_metrics === true,
    publicHealth: auth.public_health !== false,
  };
}

/** The `ffmpeg:` section: two settings, every other key an argument template. */
function normalizeFfmpeg(ffmpeg: Section): FfmpegConfig {
  const { bin, transcode, ...templates } = ffmpeg;
  return {
    bin: typeof bin === 'string' && bin !== '' ? bin : DEFAULTS.ffmpeg.bin,
    transcode: transcode === 'never' ? 'never' : DEFAULTS.ffmpeg.transcode,
    templates: Object.fromEntries(Object.entries(templates).map(([k, v]) => [k, String(v)])),
  };
}

/** The `record:` section: seconds, ages and sizes in the file, ms and bytes in the Config. */
function normalizeRecord(record: Section): RecordConfig {
  const d = DEFAULTS.record;
  const retention = (r: unknown, age: number | undefined): RecordRetention => {
    const o = isPlainObject(r) ? r : {};
    const maxAgeMs = o.age !== undefined && o.age !== null ? parseAge(o.age) : age;
    const maxBytes = o.size !== undefined && o.size !== null ? parseSize(o.size) : undefined;
    // 0 means "no limit" for both.
    return { maxAgeMs: maxAgeMs || undefined, maxBytes: maxBytes || undefined };
  };
  const streams: RecordConfig['streams'] = {};
  const list = record.streams;
  if (Array.isArray(list)) for (const name of list) streams[String(name)] = { retention: {} };
  else if (isPlainObject(list)) {
    for (const [name, v] of Object.entries(list)) {
      const o = isPlainObject(v) ? v : {};
      const own = isPlainObject(o.retention) ? o.retention : {};
      streams[name] = {
        segmentSeconds: o.segment !== undefined && o.segment !== null ? Number(o.segment) : undefined,
        retention: {
          maxAgeMs: own.age !== undefined && own.age !== null ? parseAge(own.age) : undefined,
          maxBytes: own.size !== undefined && own.size !== null ? parseSize(own.size) : undefined,
        },
      };
    }
  }
  return {
    path: resolve(typeof record.path === 'string' ? record.path : d.path),
    segmentSeconds:
      record.segment !== undefined && record.segment !== null ? Number(record.segment) : d.segmentSeconds,
    retention: retention(record.retention, d.maxAgeMs),
    streams,
  };
}

const AGE_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 };

/** `7d` -> 604800000 (ms); a plain number is seconds. Units: s, m, h, d, w. */
export function parseAge(value: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$/.exec(String(value));
  if (!m) throw new ConfigError(`"${String(value).slice(0, 40)}" is not an age such as "7d"`);
  return Math.round(Number(m[1]) * AGE_UNITS[m[2] || 's'] * 1000);
}

/** `10GB` -> 10^10, `10GiB` -> 10 * 2^30; a plain number is bytes. KB, MB, GB, TB are powers of 1000. */
export function parseSize(value: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?))?b?\s*$/i.exec(String(value));
  if (!m) throw new ConfigError(`"${String(value).slice(0, 40)}" is not a size such as "10GB"`);
  const power = m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.round(Number(m[1]) * (m[3] ? 1024 : 1000) ** power);
}

/** The `diag:` section: seconds and MB in the file, ms and bytes in the Config. */
function normalizeDiag(diag: Section): DiagConfig {
  const d = DEFAULTS.diag;
  const num = (key: string, def: number, scale = 1): number =>
    diag[key] !== undefined && diag[key] !== null ? Number(diag[key]) * scale : def;
  return {
    intervalMs: num('interval', d.intervalMs, 1000),
    eventLoopLagP99Ms: num('event_loop_lag_p99_ms', d.eventLoopLagP99Ms),
    eventLoopLagMaxMs: num('event_loop_lag_max_ms', d.eventLoopLagMaxMs),
    heapGrowthBytes: num('heap_growth_mb', d.heapGrowthBytes, 1024 * 1024),
    heapWindowMs: num('heap_window', d.heapWindowMs, 1000),
    handlesGrowth: num('handles_growth', d.handlesGrowth),
    sourceStallMs: num('source_stall_seconds', d.sourceStallMs, 1000),
    consumerDropRate: num('consumer_drop_rate', d.consumerDropRate),
    incidentDir: resolve(typeof diag.incident_dir === 'string' ? diag.incident_dir : d.incidentDir),
    maxIncidents: num('max_incidents', d.maxIncidents),
    incidentCooldownMs: num('incident_cooldown', d.incidentCooldownMs, 1000),
    healthHoldMs: num('health_hold', d.healthHoldMs, 1000),
    profileMs: num('profile_seconds', d.profileMs, 1000),
  };
}

/** `":1984"` -> `{ host: undefined, port: 1984 }`; `""` -> undefined (listener disabled). */
export function parseListen(listen: string): { host: string | undefined; port: number } | undefined {
  if (listen === '') return undefined;
  const i = listen.lastIndexOf(':');
  let host: string | undefined = listen.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host || undefined, port: Number(listen.slice(i + 1)) };
}
