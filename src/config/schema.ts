/**
 * The config file's JSON schema (validated with ajv) and the normalized Config type the rest of
 * the gateway reads. Keys and defaults follow go2rtc so that its users can switch.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const listen = { type: 'string', pattern: '^(|[^\\s:]*:\\d{1,5}|\\[[0-9a-fA-F:.]+\\]:\\d{1,5})$' };
const level = { enum: LOG_LEVELS };
const url = { type: 'string', minLength: 1 };

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
    demo: { type: 'boolean' },
  },
  // Sections of other go2rtc modules (homekit, hass, ...) are accepted and ignored, with a warning.
  additionalProperties: true,
} as const;

export const KNOWN_SECTIONS = new Set(Object.keys(configSchema.properties));

export interface Config {
  /** Stream name -> source URLs in order. */
  streams: Record<string, string[]>;
  api: { listen: string; origin?: string; maxBodyBytes: number };
  rtsp: { listen: string; username?: string; password?: string; defaultQuery?: string };
  webrtc: { listen: string; candidates: string[]; transport: 'any' | 'udp' | 'tcp' };
  log: { level: (typeof LOG_LEVELS)[number]; modules: Record<string, (typeof LOG_LEVELS)[number]> };
  source: { idleTimeoutMs: number };
  /** Whether the built-in `demo` stream is added (unless a stream of that name is configured). */
  demo: boolean;
  /** The files read, in order; API changes to streams are written to the last one. */
  files: string[];
  /** Unknown top-level sections, for a warning at start-up. */
  ignoredSections: string[];
}

export const DEFAULTS = {
  api: { listen: ':1984', maxBodyBytes: 1024 * 1024 },
  rtsp: { listen: ':8554' },
  webrtc: { listen: ':8555', candidates: [] as string[], transport: 'any' as const },
  log: { level: 'info' as const },
  source: { idleTimeoutMs: 5000 },
};
