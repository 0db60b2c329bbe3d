/**
 * HTTP media: `http://`/`https://` sources (src/protocols/http/source), ingest by POST and the
 * MPEG-TS, FLV, ADTS and MJPEG outputs (the `http-media` module).
 */

export { type ContentKind, type Detection, detectContent } from './source/detect.ts';
export { HttpDriver, httpSourceFactory } from './source/driver.ts';
export { type HttpSourceOptions, parseHttpSourceUrl } from './source/url.ts';
