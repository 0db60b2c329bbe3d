/**
 * RTSP `a=control` resolution (RFC 2326 §C.1.1, RFC 7826 §18.31) the way cameras need it.
 *
 * Cameras send absolute URLs (Hikvision, Axis), relative names (`trackID=0`, `track1`) or `*`.
 * A relative control is appended to the base with a `/` rather than resolved as a URL reference,
 * because servers mean "below the presentation": Dahua's Content-Base is
 * `rtsp://host/cam/realmonitor?channel=1&subtype=0/` and its track URL is that plus `trackID=0`,
 * which URL resolution would mangle. gortsplib and go2rtc append the same way.
 */

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The URL to SETUP for a media section.
 *
 * @param base Content-Base, Content-Location or the request URL of the DESCRIBE.
 * @param control the media's `a=control` value; undefined or `*` means the base itself.
 * @param sessionControl the session-level `a=control`; used as the base when it is absolute.
 */
export function resolveControl(base: string, control?: string, sessionControl?: string): string {
  const root = sessionControl && ABSOLUTE.test(sessionControl) ? sessionControl : base;
  if (control === undefined || control === '' || control === '*') return root;
  if (ABSOLUTE.test(control)) return control;
  if (control.startsWith('/')) {
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(root);
    return m ? m[1] + control : control;
  }
  return root.endsWith('/') ? root + control : `${root}/${control}`;
}
