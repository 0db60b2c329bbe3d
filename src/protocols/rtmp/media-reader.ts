/**
 * Turns the media messages of one RTMP message stream (audio 8, video 9, data 18/15) into the
 * demuxer events of the FLV layer: the bodies are FLV tag bodies, read by an `FlvTagReader`.
 * Both tracks are waited for (up to the reader's limits) until onMetaData says which exist.
 */
import { ParseError } from '../../core/errors.ts';
import { type Amf0Value, decodeAmf0All } from '../../formats/flv/amf0.ts';
import { FlvTagReader } from '../../formats/flv/tag-reader.ts';
import { type FlvEvent, type FlvReaderOptions, TagType } from '../../formats/flv/types.ts';
import { MessageType, type RtmpMessage } from './types.ts';

export class RtmpMediaReader {
  readonly reader: FlvTagReader;

  constructor(options: FlvReaderOptions = {}) {
    this.reader = new FlvTagReader(options);
    this.reader.expect({ video: true, audio: true });
  }

  /** True for the message types this reader takes. */
  static handles(type: number): boolean {
    return (
      type === MessageType.AUDIO ||
      type === MessageType.VIDEO ||
      type === MessageType.DATA_AMF0 ||
      type === MessageType.DATA_AMF3
    );
  }

  /** Reads one message; damage is counted in `reader.stats`, never thrown. */
  push(message: RtmpMessage): FlvEvent[] {
    switch (message.type) {
      case MessageType.AUDIO:
        return this.reader.push(TagType.AUDIO, message.body, message.timestamp);
      case MessageType.VIDEO:
        return this.reader.push(TagType.VIDEO, message.body, message.timestamp);
      case MessageType.DATA_AMF0:
      case MessageType.DATA_AMF3: {
        const body = message.type === MessageType.DATA_AMF3 ? message.body.subarray(1) : message.body;
        this.#expectFromMetadata(body);
        return this.reader.push(TagType.SCRIPT, body, message.timestamp);
      }
      default:
        return [];
    }
  }

  /** Ends the input: tracks still held are opened with what is ready. */
  flush(): FlvEvent[] {
    return this.reader.flush();
  }

  /** onMetaData lists the codecs the stream has; a kind it does not name is not waited for. */
  #expectFromMetadata(body: Buffer): void {
    let values: Amf0Value[];
    try {
      values = decodeAmf0All(body);
    } catch (err) {
      if (err instanceof ParseError) return; // the tag reader counts it
      throw err;
    }
    if (values[0] === '@setDataFrame') values.shift();
    const meta = values[1];
    if (values[0] !== 'onMetaData' || !meta || typeof meta !== 'object' || Array.isArray(meta)) return;
    if (meta instanceof Date) return;
    if (!('videocodecid' in meta) && !('audiocodecid' in meta)) return;
    this.reader.expect({ video: 'videocodecid' in meta, audio: 'audiocodecid' in meta });
  }
}
