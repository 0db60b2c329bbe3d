/**
 * RTMP command and data messages (RTMP 1.0 section 7.1.1, 7.1.2, 7.2): AMF0 values in a message
 * body. A command is its name, a transaction id, a command object and optional arguments:
 *
 *   string name | number transaction id | object-or-null | args...
 *
 * AMF3 commands and data (types 17 and 15) start with a format byte 0x00 and carry AMF0 values
 * in practice (FMS clients); that byte is skipped. The AMF0 codec is the FLV layer's (depth and
 * length checked, `ParseError` only).
 */
import { ParseError } from '../../core/errors.ts';
import { type Amf0Object, type Amf0Value, decodeAmf0All, encodeAmf0 } from '../../formats/flv/amf0.ts';
import { MessageType, type RtmpMessage } from './types.ts';

const WHAT = 'RTMP command';
/** Values of one command or data message mediagate reads; more is not an RTMP client. */
const MAX_VALUES = 64;

/** A decoded command. */
export interface RtmpCommand {
  name: string;
  transactionId: number;
  /** The command object: an object, or null for most NetStream commands. */
  object: Amf0Value;
  args: Amf0Value[];
}

/** The AMF0 values of a command or data message body; skips the AMF3 format byte. */
function values(message: RtmpMessage): Amf0Value[] {
  let body = message.body;
  if (message.type === MessageType.COMMAND_AMF3 || message.type === MessageType.DATA_AMF3) {
    ParseError.need(WHAT, body, 0, 1, 'AMF3 format byte');
    body = body.subarray(1);
  }
  const list = decodeAmf0All(body);
  if (list.length > MAX_VALUES) throw new ParseError(WHAT, `${list.length} values, over ${MAX_VALUES}`);
  return list;
}

/** Decodes a command message (type 20 or 17). Throws `ParseError` when it is not one. */
export function parseCommand(message: RtmpMessage): RtmpCommand {
  const list = values(message);
  const [name, transactionId, object, ...args] = list;
  if (typeof name !== 'string') throw new ParseError(WHAT, 'no command name');
  return {
    name,
    transactionId: typeof transactionId === 'number' && Number.isFinite(transactionId) ? transactionId : 0,
    object: object ?? null,
    args,
  };
}

/** Decodes a data message (type 18 or 15): `@setDataFrame`, `onMetaData`, `|RtmpSampleAccess`. */
export function parseData(message: RtmpMessage): Amf0Value[] {
  return values(message);
}

/** Encodes a command as an AMF0 command message. */
export function commandMessage(
  csid: number,
  streamId: number,
  name: string,
  transactionId: number,
  object: Amf0Value,
  ...args: Amf0Value[]
): RtmpMessage {
  const parts = [
    encodeAmf0(name),
    encodeAmf0(transactionId),
    encodeAmf0(object),
    ...args.map((a) => encodeAmf0(a)),
  ];
  return { csid, type: MessageType.COMMAND_AMF0, streamId, timestamp: 0, body: Buffer.concat(parts) };
}

/** Encodes values as an AMF0 data message. Objects are written as ECMA arrays when `ecma` is set. */
export function dataMessage(csid: number, streamId: number, list: Amf0Value[], ecma = false): RtmpMessage {
  const body = Buffer.concat(list.map((v) => encodeAmf0(v, ecma && typeof v === 'object' && v !== null)));
  return { csid, type: MessageType.DATA_AMF0, streamId, timestamp: 0, body };
}

/** The info object of an `onStatus` or `_result` (`level`, `code`, `description`, ...). */
export function statusInfo(
  level: 'status' | 'error' | 'warning',
  code: string,
  description: string,
  extra: Amf0Object = {},
): Amf0Object {
  return { level, code, description, ...extra };
}

/** A string field of a command object, or undefined. */
export function stringField(object: Amf0Value, key: string): string | undefined {
  if (!object || typeof object !== 'object' || Array.isArray(object) || object instanceof Date)
    return undefined;
  const v = (object as Amf0Object)[key];
  return typeof v === 'string' ? v : undefined;
}

/** A field of a command object, or undefined. */
export function field(object: Amf0Value, key: string): Amf0Value {
  if (!object || typeof object !== 'object' || Array.isArray(object) || object instanceof Date)
    return undefined;
  return (object as Amf0Object)[key];
}
