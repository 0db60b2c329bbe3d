/**
 * A streaming MPEG-TS demuxer (ISO/IEC 13818-1): bytes in any chunking go in, a `tracks` event
 * and then `frame` events come out. It follows the first program of the PAT, reassembles the PES
 * packets of its H.264, H.265, AAC (ADTS) and Opus streams, and turns them into AVCC / raw frames.
 *
 * Damage is dropped and counted in `stats`, never thrown: garbage between packets (resync on the
 * sync byte, confirmed by the next packet's), continuity-counter gaps (the PES in progress is
 * dropped), bad CRCs, malformed headers and PES packets over `maxPesSize`.
 */
import { ParseError } from '../../core/errors.ts';
import type { Media } from '../../core/media.ts';
import { classify, type EsStream, esDropped, newEsStream } from './es-stream.ts';
import { NULL_PID, parseTsPacket, TS_PACKET_SIZE, TS_SYNC_BYTE, type TsPacket } from './packet.ts';
import { PES_LENGTH_BASE, parsePesHeader } from './pes.ts';
import { type PmtStream, parsePat, parsePmt, parsePsiSection, TABLE_PAT, TABLE_PMT } from './psi.ts';
import { SectionAssembler } from './section.ts';
import { PTS_BITS, TimestampUnwrapper } from './timestamp.ts';
import { type TrackCandidate, TrackGate } from './track-gate.ts';
import {
  PAT_PID,
  type SkippedStream,
  type TsDemuxerOptions,
  type TsDemuxerStats,
  type TsEvent,
} from './types.ts';

const DEFAULT_MAX_PES_SIZE = 8 << 20;
const CC_MODULO = 16;
const PID_COUNT = 0x2000;
/** Streaming MPEG-TS demuxer; see the file comment. */
export class TsDemuxer {
  /** Counters of what was dropped; see `TsDemuxerStats`. */
  readonly stats: TsDemuxerStats = {
    packets: 0,
    garbageBytes: 0,
    droppedPackets: 0,
    continuityErrors: 0,
    psiErrors: 0,
    pesDropped: 0,
    framesDropped: 0,
  };
  /** Streams of the current PMT that are skipped (MP3, unknown types). */
  skipped: SkippedStream[] = [];
  private readonly maxPesSize: number;
  private readonly gate: TrackGate;
  private readonly unwrapper = new TimestampUnwrapper(PTS_BITS);
  private readonly lastCc = new Int8Array(PID_COUNT).fill(-1);
  private carry: Buffer | undefined;
  private synced = false;
  private readonly pat = new SectionAssembler();
  private pmt: SectionAssembler | undefined;
  private program = -1;
  private pmtPid = -1;
  private pmtVersion = -1;
  private streams = new Map<number, EsStream>();
  private order: EsStream[] = [];
  private nextKey = 0;
  /** Frames dropped by streams that a later PMT removed. */
  private droppedGone = 0;

  constructor(options: TsDemuxerOptions = {}) {
    this.maxPesSize = options.maxPesSize ?? DEFAULT_MAX_PES_SIZE;
    this.gate = new TrackGate(options);
  }

  /** The track list once the `tracks` event went out. */
  get tracks(): readonly Media[] | undefined {
    return this.gate.tracks;
  }

  /** Picture size of a video track from its SPS, in pixels; undefined for audio or before it is known. */
  videoSize(track: number): { width: number; height: number } | undefined {
    for (const s of this.order) {
      if (this.gate.trackOf(s.key) === track && s.video?.codec)
        return { width: s.video.width, height: s.video.height };
    }
    return undefined;
  }

  /** Feeds bytes of the stream; returns the events they complete. Never throws on bad input. */
  push(chunk: Buffer): TsEvent[] {
    const out: TsEvent[] = [];
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = undefined;
    const o = this.scan(buf, false, out);
    if (o < buf.length) this.carry = Buffer.from(buf.subarray(o));
    this.updateDropped();
    return out;
  }

  /** Ends the input: completes PES packets of unbounded length and opens the tracks if still held. */
  flush(): TsEvent[] {
    const out: TsEvent[] = [];
    if (this.carry) {
      const o = this.scan(this.carry, true, out);
      this.stats.garbageBytes += this.carry.length - o;
      this.carry = undefined;
    }
    for (const s of this.order) this.finishPes(s, out);
    this.gate.flush(this.candidates(), out);
    this.updateDropped();
    return out;
  }

  /** Handles the whole packets in `buf`; returns the offset of the first byte not consumed. */
  private scan(buf: Buffer, final: boolean, out: TsEvent[]): number {
    let o = 0;
    while (buf.length - o >= TS_PACKET_SIZE) {
      if (buf[o] !== TS_SYNC_BYTE) {
        this.synced = false;
        const next = buf.indexOf(TS_SYNC_BYTE, o + 1);
        const to = next < 0 ? buf.length : next;
        this.stats.garbageBytes += to - o;
        o = to;
        continue;
      }
      if (!this.synced) {
        // A 0x47 in garbage is only trusted when the next packet starts with one too.
        if (buf.length - o < 2 * TS_PACKET_SIZE) {
          if (!final) break;
        } else if (buf[o + TS_PACKET_SIZE] !== TS_SYNC_BYTE) {
          this.stats.garbageBytes++;
          o++;
          continue;
        }
        this.synced = true;
      }
      this.packet(buf, o, out);
      o += TS_PACKET_SIZE;
    }
    return o;
  }

  private packet(buf: Buffer, offset: number, out: TsEvent[]): void {
    let p: TsPacket;
    try {
      p = parseTsPacket(buf, offset);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.droppedPackets++;
      return;
    }
    this.stats.packets++;
    if (p.transportError || p.pid === NULL_PID) {
      if (p.transportError) this.stats.droppedPackets++;
      return;
    }
    if (p.hasPayload) {
      const last = this.lastCc[p.pid];
      if (last >= 0 && !p.discontinuity) {
        if (p.continuityCounter === last) {
          this.stats.droppedPackets++; // a duplicate packet (2.4.3.3)
          return;
        }
        if (p.continuityCounter !== (last + 1) % CC_MODULO) {
          this.stats.continuityErrors++;
          this.lost(p.pid);
        }
      }
      this.lastCc[p.pid] = p.continuityCounter;
    }
    if (p.scrambled) {
      this.stats.droppedPackets++;
      return;
    }
    if (!p.hasPayload || p.payloadStart >= p.payloadEnd) return;
    const payload = buf.subarray(p.payloadStart, p.payloadEnd);
    if (p.pid === PAT_PID) this.onPat(payload, p.unitStart);
    else if (p.pid === this.pmtPid && this.pmt) this.onPmt(this.pmt, payload, p.unitStart);
    else {
      const s = this.streams.get(p.pid);
      if (s) this.onPes(s, payload, p.unitStart, out);
    }
  }

  /** Drops what was in progress on `pid` after a continuity gap. */
  private lost(pid: number): void {
    if (pid === PAT_PID) this.pat.reset();
    else if (pid === this.pmtPid) this.pmt?.reset();
    const s = this.streams.get(pid);
    if (!s) return;
    if (s.active) this.stats.pesDropped++;
    s.active = false;
    s.chunks = [];
    s.audio?.reset();
  }

  private sections(assembler: SectionAssembler, payload: Buffer, unitStart: boolean, tableId: number) {
    const found: ReturnType<typeof parsePsiSection>[] = [];
    try {
      for (const section of assembler.push(payload, unitStart)) {
        if (section[0] !== tableId) continue;
        const parsed = parsePsiSection(section);
        if (parsed.currentNext) found.push(parsed);
      }
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.psiErrors++;
    }
    return found;
  }

  private onPat(payload: Buffer, unitStart: boolean): void {
    for (const section of this.sections(this.pat, payload, unitStart, TABLE_PAT)) {
      const programs = parsePat(section.body);
      if (programs.length === 0) continue;
      const chosen = programs.find((p) => p.programNumber === this.program) ?? programs[0];
      if (chosen.pmtPid === this.pmtPid && chosen.programNumber === this.program) continue;
      if (chosen.pmtPid === PAT_PID || chosen.pmtPid === NULL_PID) continue;
      this.program = chosen.programNumber;
      this.pmtPid = chosen.pmtPid;
      this.pmtVersion = -1;
      this.pmt = new SectionAssembler();
    }
  }

  private onPmt(assembler: SectionAssembler, payload: Buffer, unitStart: boolean): void {
    for (const section of this.sections(assembler, payload, unitStart, TABLE_PMT)) {
      if (section.tableIdExtension !== this.program || section.version === this.pmtVersion) continue;
      try {
        this.applyPmt(parsePmt(section.body).streams);
        this.pmtVersion = section.version;
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        this.stats.psiErrors++;
      }
    }
  }

  /** Takes the streams of a new PMT; a stream whose PID and codec did not change keeps its state. */
  private applyPmt(list: readonly PmtStream[]): void {
    const next: EsStream[] = [];
    const skipped: SkippedStream[] = [];
    for (const es of list) {
      if (es.pid === PAT_PID || es.pid === this.pmtPid || es.pid === NULL_PID) continue;
      if (next.some((s) => s.pid === es.pid)) continue;
      const kind = classify(es);
      if (!kind) {
        skipped.push({ pid: es.pid, streamType: es.streamType });
        continue;
      }
      const old = this.streams.get(es.pid);
      next.push(old && old.kind === kind ? old : newEsStream(this.nextKey++, es, kind));
    }
    for (const s of this.order) if (!next.includes(s)) this.droppedGone += esDropped(s);
    this.order = next;
    this.streams = new Map(next.map((s) => [s.pid, s]));
    this.skipped = skipped;
  }

  private onPes(s: EsStream, payload: Buffer, unitStart: boolean, out: TsEvent[]): void {
    if (unitStart) {
      this.finishPes(s, out);
      s.active = true;
      s.chunks = [];
      s.size = 0;
      s.expected = undefined;
    } else if (!s.active) {
      return; // joined in the middle of a PES
    }
    s.chunks.push(Buffer.from(payload));
    s.size += payload.length;
    if (s.size > this.maxPesSize) {
      this.stats.pesDropped++;
      s.active = false;
      s.chunks = [];
      return;
    }
    if (s.expected === undefined && s.size >= PES_LENGTH_BASE) {
      const head = s.chunks[0].length >= PES_LENGTH_BASE ? s.chunks[0] : Buffer.concat(s.chunks);
      const length = head.readUInt16BE(PES_LENGTH_BASE - 2);
      s.expected = length === 0 ? 0 : PES_LENGTH_BASE + length;
    }
    if (s.expected && s.size >= s.expected) this.finishPes(s, out);
  }

  /** Completes the PES in progress on `s` and hands its frames to the gate. */
  private finishPes(s: EsStream, out: TsEvent[]): void {
    if (!s.active) return;
    s.active = false;
    const data = s.chunks.length === 1 ? s.chunks[0] : Buffer.concat(s.chunks, s.size);
    s.chunks = [];
    let header: ReturnType<typeof parsePesHeader>;
    try {
      header = parsePesHeader(data);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      this.stats.pesDropped++;
      return;
    }
    let end = data.length;
    if (header.packetLength > 0) {
      end = PES_LENGTH_BASE + header.packetLength;
      if (data.length < end) {
        this.stats.pesDropped++; // cut short by the next unit start
        return;
      }
    }
    const payload = data.subarray(header.headerSize, end);
    const pts = header.pts === undefined ? undefined : this.unwrapper.unwrap(header.pts);
    const dts = header.dts === undefined ? pts : this.unwrapper.unwrap(header.dts);
    if (s.video) {
      if (pts === undefined || dts === undefined) {
        this.stats.pesDropped++;
        return;
      }
      const frame = s.video.frame(payload, pts, dts);
      if (frame) this.gate.push(s.key, frame, this.candidates(), out);
    } else if (s.audio) {
      const frames = s.audio.frames(payload, pts);
      for (const frame of frames) this.gate.push(s.key, frame, this.candidates(), out);
    }
  }

  private candidates(): TrackCandidate[] {
    if (this.gate.open) return [];
    return this.order.map((s) => ({ key: s.key, codec: s.video?.codec ?? s.audio?.codec }));
  }

  private updateDropped(): void {
    let n = this.gate.dropped + this.droppedGone;
    for (const s of this.order) n += esDropped(s);
    this.stats.framesDropped = n;
  }
}
