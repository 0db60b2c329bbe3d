/**
 * RFC 3640 `mpeg4-generic` SDP parameters for AAC: the hex `config` (AudioSpecificConfig) and the
 * AU-header layout (`sizelength`, `indexlength`, `indexdeltalength`) for modes AAC-hbr and AAC-lbr.
 */
import { ParseError, UnsupportedError } from '../../core/errors.ts';

/** AU-header field widths in bits (RFC 3640 3.2.1). */
export interface AuHeaderLayout {
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
}

/** AAC-hbr (RFC 3640 3.3.6): 13-bit sizes, 3-bit indexes; AUs up to 8191 bytes. */
export const AAC_HBR: Readonly<AuHeaderLayout> = { sizeLength: 13, indexLength: 3, indexDeltaLength: 3 };
/** AAC-lbr (RFC 3640 3.3.5): 6-bit sizes, 2-bit indexes; AUs up to 63 bytes. */
export const AAC_LBR: Readonly<AuHeaderLayout> = { sizeLength: 6, indexLength: 2, indexDeltaLength: 2 };
/** Optional AU-header fields mediagate does not read; a stream that uses them is rejected. */
const UNSUPPORTED_FIELDS = [
  'ctsdeltalength',
  'dtsdeltalength',
  'randomaccessindication',
  'streamstateindication',
  'auxiliarydatasizelength',
  'constantsize',
];
const MAX_FIELD_BITS = 32;

function intParam(fmtp: Record<string, string>, key: string, fallback: number): number {
  const v = fmtp[key];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_FIELD_BITS) throw new UnsupportedError(`RFC 3640 ${key}=${v}`);
  return n;
}

/**
 * The AU-header layout of a stream from its fmtp; defaults by `mode` (AAC-lbr, else AAC-hbr).
 * Throws `UnsupportedError` for layouts without a size field or with CTS/DTS/RAP/state/aux fields.
 */
export function auHeaderLayout(fmtp: Record<string, string> | undefined): AuHeaderLayout {
  const f = fmtp ?? {};
  const base = f.mode?.toLowerCase() === 'aac-lbr' ? AAC_LBR : AAC_HBR;
  for (const key of UNSUPPORTED_FIELDS) {
    if (f[key] !== undefined && f[key] !== '0')
      throw new UnsupportedError(`RFC 3640 ${key}=${f[key]} is not supported`);
  }
  const layout = {
    sizeLength: intParam(f, 'sizelength', base.sizeLength),
    indexLength: intParam(f, 'indexlength', base.indexLength),
    indexDeltaLength: intParam(f, 'indexdeltalength', base.indexDeltaLength),
  };
  if (layout.sizeLength === 0) throw new UnsupportedError('RFC 3640 AU headers without a size field');
  return layout;
}

/** The fmtp of an AAC-hbr stream with this AudioSpecificConfig. */
export function aacFmtp(config: Uint8Array): Record<string, string> {
  return {
    streamtype: '5',
    'profile-level-id': '1',
    mode: 'AAC-hbr',
    sizelength: String(AAC_HBR.sizeLength),
    indexlength: String(AAC_HBR.indexLength),
    indexdeltalength: String(AAC_HBR.indexDeltaLength),
    config: aacConfigToHex(config),
  };
}

/** The fmtp `config` value: the AudioSpecificConfig in hex. */
export function aacConfigToHex(config: Uint8Array): string {
  return Buffer.from(config).toString('hex');
}

/** Decodes the fmtp `config` hex string. Throws `ParseError` when it is empty or not hex. */
export function aacConfigFromHex(hex: string): Buffer {
  const s = hex.trim();
  if (s.length === 0 || s.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(s)) {
    throw new ParseError('AAC config', `not a hex string: ${JSON.stringify(s.slice(0, 32))}`);
  }
  return Buffer.from(s, 'hex');
}
