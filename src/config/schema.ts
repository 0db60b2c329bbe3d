/**
 * The config file's JSON schema (validated with ajv) and the normalized Config type the rest of
 * the gateway reads. Keys and defaults follow go2rtc so that its users can switch.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const listen = { type: 'string', pattern: '^(|[^\\s:]*:\\d{1,5}|\\[[0-9a-fA-F:.]+\\]:\\d{1,5})$' };
const level = { enum: LOG_LEVELS };
const url = { type: 'string', minLength: 1 };
/** A list of stream names, one name, or `"*"` for every stream. */
const streamList = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'string', minLength: 1 } },
  ],
};
/** `record:` retention: an age (seconds, or `90s`, `30m`, `12h`, `7d`, `2w`) and a size (bytes, or `500MB`, `10GB`, `1.5TiB`). */
const recordRetention = {
  type: ['object', 'null'],
  properties: {
    age: {
      anyOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*[smhdw]?\\s*$' },
      ],
    },
    size: {
      anyOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgGtT]i?)?[bB]?\\s*$' },
      ],
    },
  },
  additionalProperties: false,
};
const recordSegment = { type: 'number', minimum: 1, maximum: 86400, description: 'seconds' };
const authUser = {
  type: 'object',
  properties: {
    password: { type: 'string', minLength: 1 },
    role: { enum: ['admin', 'viewer'] },
    streams: streamList,
    publish: streamList,
    rtsp_ha1: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' },
  },
  required: ['password'],
  additionalProperties: false,
};

/** Schema of one config file (before merging and defaults). */
export const configSchema = {
  type: 'object',
  properties: {
    streams: {
      type: ['object', 'null'],
      additionalProperties: {
        anyOf: [url, { type: 'array', items: url }, { type: 'null' }],
      },
    },
    api: {
      type: ['object', 'null'],
      properties: {
        listen,
        origin: { type: 'string' },
        max_body_bytes: { type: 'integer', minimum: 1024 },
        tls_listen: listen,
        tls_cert: { type: 'string', minLength: 1 },
        tls_key: { type: 'string', minLength: 1 },
        file_root: { type: 'string', minLength: 1 },
        allow_exec: {
          type: 'boolean',
          description: 'let the API add exec: sources and ffmpeg: sources with raw arguments or files',
        },
      },
      additionalProperties: false,
    },
    rtsp: {
      type: ['object', 'null'],
      properties: {
        listen,
        username: { type: 'string' },
        password: { type: 'string' },
        default_query: { type: 'string' },
        rtp_listen: { ...listen, description: 'UDP RTP socket, default ":8000"; "" turns UDP off' },
        rtcp_listen: { ...listen, description: 'UDP RTCP socket, default ":8001"' },
        max_connections: { type: 'integer', minimum: 1 },
        session_timeout: { type: 'number', minimum: 1, description: 'seconds' },
        tls_listen: { ...listen, description: 'RTSPS (TCP only), with api.tls_cert and api.tls_key' },
      },
      additionalProperties: false,
    },
    rtmp: {
      type: ['object', 'null'],
      properties: {
        listen: { ...listen, description: 'RTMP listener, e.g. ":1935"; "" (the default) turns it off' },
        max_connections: { type: 'integer', minimum: 1 },
      },
      additionalProperties: false,
    },
    webrtc: {
      type: ['object', 'null'],
      properties: {
        listen,
        candidates: { type: 'array', items: { type: 'string' } },
        transport: { enum: ['any', 'udp', 'tcp'] },
      },
      additionalProperties: false,
    },
    log: {
      type: ['object', 'null'],
      properties: { level, format: { enum: ['json', 'text'] } },
      additionalProperties: level,
    },
    source: {
      type: ['object', 'null'],
      properties: {
        idle_timeout: {
          type: 'number',
          minimum: 0,
          description: 'seconds a source stays up after its last reader',
        },
      },
      additionalProperties: false,
    },
    diag: {
      type: ['object', 'null'],
      properties: {
        interval: { type: 'number', minimum: 0.1, maximum: 3600 },
        event_loop_lag_p99_ms: { type: 'number', minimum: 1 },
        event_loop_lag_max_ms: { type: 'number', minimum: 1 },
        heap_growth_mb: { type: 'number', minimum: 1 },
        heap_window: { type: 'number', minimum: 1 },
        handles_growth: { type: 'integer', minimum: 1 },
        source_stall_seconds: { type: 'number', minimum: 1 },
        consumer_drop_rate: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        incident_dir: { type: 'string', minLength: 1 },
        max_incidents: { type: 'integer', minimum: 1, maximum: 1000 },
        incident_cooldown: { type: 'number', minimum: 0 },
        health_hold: { type: 'number', minimum: 0 },
        profile_seconds: { type: 'number', minimum: 0.1, maximum: 60 },
      },
      additionalProperties: false,
    },
    auth: {
      type: ['object', 'null'],
      properties: {
        users: { type: 'object', minProperties: 1, additionalProperties: authUser },
        localhost_bypass: { type: 'boolean' },
        token_secret: { type: 'string', minLength: 16 },
        token_max_ttl: { type: 'number', minimum: 1, description: 'seconds' },
        public_metrics: { type: 'boolean' },
        public_health: { type: 'boolean' },
      },
      required: ['users'],
      additionalProperties: false,
    },
    ffmpeg: {
      type: ['object', 'null'],
      properties: {
        bin: { type: 'string', minLength: 1, description: 'the ffmpeg program, default "ffmpeg" (PATH)' },
        transcode: { enum: ['auto', 'never'], description: 'automatic transcoding, default auto' },
      },
      // Every other key is an argument template (go2rtc's `ffmpeg:` section): `h264: "-c:v ..."`.
      additionalProperties: { type: 'string' },
    },
    record: {
      type: ['object', 'null'],
      properties: {
        path: { type: 'string', minLength: 1 },
        segment: recordSegment,
        retention: recordRetention,
        // A list of names, or a map of name -> overrides (`items` checks lists, the rest maps).
        streams: {
          type: ['array', 'object', 'null'],
          items: { type: 'string', minLength: 1 },
          additionalProperties: {
            type: ['object', 'null'],
            properties: { segment: recordSegment, retention: recordRetention },
            additionalProperties: false,
          },
        },
      },
      additionalProperties: false,
    },
    demo: { type: 'boolean' },
  },
  // Sections of other go2rtc modules (homekit, hass, ...) are accepted and ignored, with a warning.
  additionalProperties: true,
} as const;

export const KNOWN_SECTIONS = new Set(Object.keys(configSchema.properties));

export interface Config {
  /** Stream name -> source URLs in order. */
  streams: Record<string, string[]>;
  api: {
    listen: string;
    origin?: string;
    maxBodyBytes: number;
    /** HTTPS/WSS listener serving the same routes (`tls_listen`); undefined = none. Needs cert and key. */
    tlsListen?: string;
    /** PEM files of the certificate (chain) and its key, re-read on SIGHUP. */
    tlsCert?: string;
    tlsKey?: string;
    /** Absolute folder that `file:` sources created through the API must lie in (`file_root`). */
    fileRoot?: string;
    /** Whether the API may add `exec:` sources and `ffmpeg:` sources with raw arguments or files. */
    allowExec: boolean;
  };
  rtsp: {
    listen: string;
    username?: string;
    password?: string;
    defaultQuery?: string;
    /** UDP RTP/RTCP sockets; undefined = port 8000/8001 on the `listen` host (OS-chosen ports when `listen` uses port 0). */
    rtpListen?: string;
    rtcpListen?: string;
    maxConnections: number;
    sessionTimeoutMs: number;
    /** RTSPS listener (TCP interleaved only), with the API's certificate; undefined = none. */
    tlsListen?: string;
  };
  /** RTMP server (publish and play, src/protocols/rtmp); off while `listen` is "". */
  rtmp: { listen: string; maxConnections: number };
  webrtc: { listen: string; candidates: string[]; transport: 'any' | 'udp' | 'tcp' };
  log: { level: (typeof LOG_LEVELS)[number]; modules: Record<string, (typeof LOG_LEVELS)[number]> };
  source: { idleTimeoutMs: number };
  diag: DiagConfig;
  /** The `ffmpeg:` section: `ffmpeg:`/`exec:` sources, transcoding, snapshots (src/protocols/ffmpeg). */
  ffmpeg: FfmpegConfig;
  /** Users and access rules (`auth:`); undefined = no auth section: everything is open, as before. */
  auth: AuthConfig | undefined;
  /** Recording to fMP4 segment files (`record:` section); see src/protocols/record/. */
  record: RecordConfig;
  /** Whether the built-in `demo` stream is added (unless a stream of that name is configured). */
  demo: boolean;
  /** The files read, in order; API changes to streams are written to the last one. */
  files: string[];
  /** Unknown top-level sections, for a warning at start-up. */
  ignoredSections: string[];
}

/** Who may do what (`auth:` section); see src/auth/ and the README's Security section. */
export interface AuthConfig {
  users: Record<string, AuthUserConfig>;
  /** Requests from 127.0.0.1/::1 act as an admin without credentials. Default false. */
  localhostBypass: boolean;
  /** HMAC key of the stream tokens; default a random key per process (tokens die with it). */
  tokenSecret?: string;
  /** Longest lifetime of a token from /api/token, seconds. Default 86400. */
  tokenMaxTtlS: number;
  /** `/metrics` without credentials (for a Prometheus on a trusted network). Default false. */
  publicMetrics: boolean;
  /** `/api/health` without credentials (for load balancers). Default true. */
  publicHealth: boolean;
}

export interface AuthUserConfig {
  /** `scrypt$N$r$p$SALT$HASH` from `mediagate --hash-password`, or a plain-text password (warned). */
  password: string;
  /** admin: everything; viewer: watch `streams`, publish to `publish`. Default viewer. */
  role: 'admin' | 'viewer';
  /** Streams a viewer may watch: names, or `"*"`. Default none. */
  streams: string[] | '*';
  /** Streams the user may publish to (RTSP ANNOUNCE, WHIP, `/api/ws?dst=`): names or `"*"`. Default none. */
  publish: string[] | '*';
  /** RTSP Digest HA1, `md5(user:mediagate:password)` in hex; derived when the password is plain text. */
  rtspHa1?: string;
}

export interface FfmpegConfig {
  /** The ffmpeg program: a path or a name found in PATH. Default `ffmpeg`. */
  bin: string;
  /** `auto`: a consumer whose codecs no source offers gets a transcoder; `never`: it gets an error. */
  transcode: 'auto' | 'never';
  /** Argument templates that override or add to the built-in ones (`h264`, `opus`, `rtsp`, ...). */
  templates: Record<string, string>;
}

/** Thresholds of the self-inspection watchdog (`diag:` section); see src/diag/. */
export interface DiagConfig {
  /** How often the sampler and the watchdog run, ms. Default 2000 (`interval: 2`, seconds). */
  intervalMs: number;
  /** Event-loop delay p99 of one interval above which the loop is "lagging", ms. Default 200. */
  eventLoopLagP99Ms: number;
  /** Worst single event-loop delay of one interval (a stall), ms. Default 400. */
  eventLoopLagMaxMs: number;
  /** Retained heap growth over `heapWindowMs` that counts as a leak, bytes. Default 256 MiB. */
  heapGrowthBytes: number;
  /** The window of the heap and handle growth rules, ms. Default 600000 (`heap_window: 600`). */
  heapWindowMs: number;
  /** Growth of active handles over the window that counts as a leak. Default 1000. */
  handlesGrowth: number;
  /** A source with readers but no frames for this long is stalled, ms. Default 10000. */
  sourceStallMs: number;
  /** Fraction (0..1] of a consumer's frames dropped in one interval that counts as too slow. Default 0.5. */
  consumerDropRate: number;
  /** Absolute folder of incidents and their profiles. Default `.diag/incidents` in the working dir. */
  incidentDir: string;
  /** Incidents kept; the oldest are removed first. Default 20. */
  maxIncidents: number;
  /** At most one incident per rule per this long, ms. Default 300000 (`incident_cooldown: 300`). */
  incidentCooldownMs: number;
  /** /api/health stays degraded this long after a rule's last breach, ms. Default 60000. */
  healthHoldMs: number;
  /** Length of the CPU and heap profile captured with an incident, ms. Default 2000. */
  profileMs: number;
}

/** The `record:` section. The file has seconds, ages (`7d`) and sizes (`10GB`); this has ms and bytes. */
export interface RecordConfig {
  /** Absolute folder of the recordings; default `recordings` in the working directory. */
  path: string;
  /** A segment ends at the first keyframe after this many seconds of media. Default 60. */
  segmentSeconds: number;
  /** For the whole folder: the age applies to every stream without its own, the size caps the total. */
  retention: RecordRetention;
  /** The streams recorded from start-up (`streams: [a, b]` or `streams: { a: { segment: 10 } }`). */
  streams: Record<string, RecordStreamConfig>;
}

export interface RecordRetention {
  /** Segments that started longer ago than this are deleted, ms. Default 7 days; `age: 0`: never. */
  maxAgeMs?: number;
  /** The oldest segments are deleted while the total is above this, bytes. Default: no limit. */
  maxBytes?: number;
}

/** A recorded stream's own settings; unset ones come from the section. */
export interface RecordStreamConfig {
  segmentSeconds?: number;
  retention: RecordRetention;
}

export const DEFAULTS = {
  record: { path: 'recordings', segmentSeconds: 60, maxAgeMs: 7 * 24 * 3600 * 1000 },
  api: { listen: ':1984', maxBodyBytes: 1024 * 1024, allowExec: false },
  ffmpeg: { bin: 'ffmpeg', transcode: 'auto' as const },
  auth: { tokenMaxTtlS: 86400 },
  rtsp: { listen: ':8554', maxConnections: 1000, sessionTimeoutMs: 60000 },
  rtmp: { listen: '', maxConnections: 1000 },
  webrtc: { listen: ':8555', candidates: [] as string[], transport: 'any' as const },
  log: { level: 'info' as const },
  source: { idleTimeoutMs: 5000 },
  diag: {
    intervalMs: 2000,
    eventLoopLagP99Ms: 200,
    eventLoopLagMaxMs: 400,
    heapGrowthBytes: 256 * 1024 * 1024,
    heapWindowMs: 600_000,
    handlesGrowth: 1000,
    sourceStallMs: 10_000,
    consumerDropRate: 0.5,
    incidentDir: '.diag/incidents',
    maxIncidents: 20,
    incidentCooldownMs: 300_000,
    healthHoldMs: 60_000,
    profileMs: 2000,
  } satisfies DiagConfig,
};
