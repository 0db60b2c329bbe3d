/**
 * Program-specific information (ISO/IEC 13818-1 2.4.4): the long section syntax with its CRC, the
 * program association table (PAT, PID 0) and the program map table (PMT).
 *
 *   table_id (8) | section_syntax_indicator (1) | '0' (1) | reserved (2) | section_length (12)
 *   table_id_extension (16) | reserved (2) | version_number (5) | current_next_indicator (1)
 *   section_number (8) | last_section_number (8) | ... | CRC_32 (32)
 *
 *   PAT body: { program_number (16) | reserved (3) | network_PID or program_map_PID (13) } ...
 *   PMT body: reserved (3) | PCR_PID (13) | reserved (4) | program_info_length (12) | descriptors
 *             { stream_type (8) | reserved (3) | elementary_PID (13) | reserved (4) | ES_info_length (12)
 *               | descriptors } ...
 *   descriptor: descriptor_tag (8) | descriptor_length (8) | data
 */
import { ParseError } from '../../core/errors.ts';
import { crc32Mpeg2 } from './crc32.ts';

/** table_id of a PAT section. */
export const TABLE_PAT = 0x00;
/** table_id of a PMT section. */
export const TABLE_PMT = 0x02;
/** Bytes up to and including section_length. */
export const SECTION_HEADER_SIZE = 3;
/** Bytes of the long-syntax fields after section_length. */
const SYNTAX_SIZE = 5;
const CRC_SIZE = 4;
/** section_length is at most 1021 for PAT and PMT (2.4.4.3), 4093 for private sections. */
export const MAX_SECTION_LENGTH = 4093;
const SECTION_LENGTH_MASK = 0x0fff;
const SYNTAX_INDICATOR = 0x80;
const SECTION_RESERVED = 0x30;
const VERSION_SHIFT = 1;
const VERSION_MASK = 0x1f;
const CURRENT_NEXT = 0x01;
const PID_MASK = 0x1fff;
const LENGTH12_MASK = 0x0fff;
const RESERVED_PID = 0xe000;
const RESERVED_LENGTH = 0xf000;
const RESERVED_VERSION = 0xc0;
const PAT_ENTRY_SIZE = 4;
const PMT_FIXED_SIZE = 4;
const PMT_STREAM_SIZE = 5;
const DESCRIPTOR_HEADER_SIZE = 2;

/** A long-syntax section whose CRC matched. `body` is a view of the input between header and CRC. */
export interface PsiSection {
  tableId: number;
  /** transport_stream_id (PAT) or program_number (PMT). */
  tableIdExtension: number;
  version: number;
  currentNext: boolean;
  body: Buffer;
}

/**
 * Parses one section (from table_id to CRC_32). Throws `ParseError` when it is short, not in the
 * long syntax, or its CRC does not match.
 */
export function parsePsiSection(buf: Buffer): PsiSection {
  const what = 'PSI section';
  ParseError.need(what, buf, 0, SECTION_HEADER_SIZE, 'header');
  if (!(buf[1] & SYNTAX_INDICATOR)) throw new ParseError(what, 'section_syntax_indicator is 0', 1);
  const length = buf.readUInt16BE(1) & SECTION_LENGTH_MASK;
  if (length < SYNTAX_SIZE + CRC_SIZE) throw new ParseError(what, `section_length ${length} too short`, 1);
  ParseError.need(what, buf, SECTION_HEADER_SIZE, length, 'section');
  const end = SECTION_HEADER_SIZE + length;
  if (crc32Mpeg2(buf, 0, end) !== 0)
    throw new ParseError(what, `CRC mismatch in table 0x${buf[0].toString(16)}`);
  return {
    tableId: buf[0],
    tableIdExtension: buf.readUInt16BE(SECTION_HEADER_SIZE),
    version: (buf[5] >> VERSION_SHIFT) & VERSION_MASK,
    currentNext: (buf[5] & CURRENT_NEXT) !== 0,
    body: buf.subarray(SECTION_HEADER_SIZE + SYNTAX_SIZE, end - CRC_SIZE),
  };
}

/** A program of the PAT. */
export interface PatProgram {
  programNumber: number;
  pmtPid: number;
}

/** The programs of a PAT body; program 0 (the network PID) is left out. */
export function parsePat(body: Buffer): PatProgram[] {
  const programs: PatProgram[] = [];
  for (let o = 0; o + PAT_ENTRY_SIZE <= body.length; o += PAT_ENTRY_SIZE) {
    const programNumber = body.readUInt16BE(o);
    if (programNumber !== 0) programs.push({ programNumber, pmtPid: body.readUInt16BE(o + 2) & PID_MASK });
  }
  return programs;
}

/** One descriptor; `data` is a view of the input. */
export interface Descriptor {
  tag: number;
  data: Buffer;
}

/** An elementary stream of a PMT. */
export interface PmtStream {
  streamType: number;
  pid: number;
  descriptors: Descriptor[];
}

/** A parsed PMT body. */
export interface Pmt {
  pcrPid: number;
  streams: PmtStream[];
}

/** Parses a descriptor loop. Throws `ParseError` when a descriptor overruns the loop. */
export function parseDescriptors(buf: Buffer): Descriptor[] {
  const list: Descriptor[] = [];
  let o = 0;
  while (o < buf.length) {
    ParseError.need('descriptor', buf, o, DESCRIPTOR_HEADER_SIZE, 'header');
    const length = buf[o + 1];
    ParseError.need('descriptor', buf, o + DESCRIPTOR_HEADER_SIZE, length, 'data');
    list.push({
      tag: buf[o],
      data: buf.subarray(o + DESCRIPTOR_HEADER_SIZE, o + DESCRIPTOR_HEADER_SIZE + length),
    });
    o += DESCRIPTOR_HEADER_SIZE + length;
  }
  return list;
}

/** Parses a PMT body. Throws `ParseError` when a length overruns the section. */
export function parsePmt(body: Buffer): Pmt {
  const what = 'PMT';
  ParseError.need(what, body, 0, PMT_FIXED_SIZE, 'PCR_PID and program_info_length');
  const pcrPid = body.readUInt16BE(0) & PID_MASK;
  const infoLength = body.readUInt16BE(2) & LENGTH12_MASK;
  let o = PMT_FIXED_SIZE;
  ParseError.need(what, body, o, infoLength, 'program descriptors');
  o += infoLength;
  const streams: PmtStream[] = [];
  while (o < body.length) {
    ParseError.need(what, body, o, PMT_STREAM_SIZE, 'stream entry');
    const streamType = body[o];
    const pid = body.readUInt16BE(o + 1) & PID_MASK;
    const esInfoLength = body.readUInt16BE(o + 3) & LENGTH12_MASK;
    o += PMT_STREAM_SIZE;
    ParseError.need(what, body, o, esInfoLength, 'ES descriptors');
    streams.push({ streamType, pid, descriptors: parseDescriptors(body.subarray(o, o + esInfoLength)) });
    o += esInfoLength;
  }
  return { pcrPid, streams };
}

/** Builds a long-syntax section around `body`, version 0, current, section 0 of 0, with its CRC. */
export function buildSection(tableId: number, tableIdExtension: number, body: Buffer): Buffer {
  const length = SYNTAX_SIZE + body.length + CRC_SIZE;
  const out = Buffer.alloc(SECTION_HEADER_SIZE + length);
  out[0] = tableId;
  out.writeUInt16BE(((SYNTAX_INDICATOR | SECTION_RESERVED) << 8) | length, 1);
  out.writeUInt16BE(tableIdExtension, SECTION_HEADER_SIZE);
  out[5] = RESERVED_VERSION | CURRENT_NEXT; // version 0
  out[6] = 0; // section_number
  out[7] = 0; // last_section_number
  body.copy(out, SECTION_HEADER_SIZE + SYNTAX_SIZE);
  out.writeUInt32BE(crc32Mpeg2(out, 0, out.length - CRC_SIZE), out.length - CRC_SIZE);
  return out;
}

/** A PAT section with one program. */
export function buildPat(transportStreamId: number, program: PatProgram): Buffer {
  const body = Buffer.alloc(PAT_ENTRY_SIZE);
  body.writeUInt16BE(program.programNumber, 0);
  body.writeUInt16BE(RESERVED_PID | program.pmtPid, 2);
  return buildSection(TABLE_PAT, transportStreamId, body);
}

/** A PMT section for one program; no program descriptors. */
export function buildPmt(programNumber: number, pmt: Pmt): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(PMT_FIXED_SIZE);
  head.writeUInt16BE(RESERVED_PID | pmt.pcrPid, 0);
  head.writeUInt16BE(RESERVED_LENGTH, 2);
  parts.push(head);
  for (const s of pmt.streams) {
    const desc = Buffer.concat(
      s.descriptors.map((d) => Buffer.concat([Buffer.from([d.tag, d.data.length]), d.data])),
    );
    const entry = Buffer.alloc(PMT_STREAM_SIZE);
    entry[0] = s.streamType;
    entry.writeUInt16BE(RESERVED_PID | s.pid, 1);
    entry.writeUInt16BE(RESERVED_LENGTH | desc.length, 3);
    parts.push(entry, desc);
  }
  return buildSection(TABLE_PMT, programNumber, Buffer.concat(parts));
}
