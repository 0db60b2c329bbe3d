/**
 * Masking of secrets in URLs and free text, for logs, API output and errors.
 * `rtsp://admin:pa55@cam/x?token=abc` -> `rtsp://admin:***@cam/x?token=***`.
 */

const USERINFO = /(^|[\s"'(=,[]|^[a-z][a-z0-9+.-]*:)([a-z][a-z0-9+.-]*:\/\/)([^\s/@:"']*):([^\s/@"']*)@/gi;
// `#header=Authorization: Bearer x` (HTTP sources): header values often carry credentials.
const HEADER_OPTION = /(#header=[^:#]*:)([^#]*)/gi;
const SECRET_PARAM = /([?&#](?:password|pass|pwd|passwd|token|key|secret|auth|signature|sig)=)([^&#\s"']*)/gi;

export function maskSecrets(text: string): string {
  return text
    .replace(USERINFO, (_m, pre: string, scheme: string, user: string, pass: string) =>
      pass ? `${pre}${scheme}${user}:***@` : `${pre}${scheme}${user}:@`,
    )
    .replace(SECRET_PARAM, (_m, key: string, value: string) => (value ? `${key}***` : key))
    .replace(HEADER_OPTION, (_m, name: string) => `${name} ***`);
}
