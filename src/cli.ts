/**
 * Command-line parsing for `mediagate`: `-c/--config FILE` (repeatable, later wins), `--version`,
 * `--help`, `--hash-password [--rtsp-user NAME]`. Pure: returns what to do, prints nothing.
 */

export type CliCommand =
  | { kind: 'run'; configFiles: string[] }
  | { kind: 'version' }
  | { kind: 'help' }
  /** Read a password from stdin, print its hash (and with a user name, its RTSP Digest HA1). */
  | { kind: 'hash-password'; rtspUser?: string }
  | { kind: 'error'; message: string };

export const USAGE = `Usage: mediagate [options]

Options:
  -c, --config FILE   config file (YAML); repeat to merge several, later files win.
                      Default: mediagate.yaml in the working directory, if present.
  --hash-password     read a password from stdin, print the hash for auth.users.NAME.password
  --rtsp-user NAME    with --hash-password: also print rtsp_ha1 for user NAME (RTSP Digest)
  -v, --version       print the version and exit
  -h, --help          print this help and exit

Without a config the gateway serves the built-in "demo" stream:
  API and web UI  http://127.0.0.1:1984/
`;

export function parseArgs(argv: readonly string[]): CliCommand {
  const configFiles: string[] = [];
  let hash = false;
  let rtspUser: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '-v' || arg === '--version') return { kind: 'version' };
    if (arg === '--hash-password') hash = true;
    else if (arg === '--rtsp-user') {
      rtspUser = argv[++i];
      if (!rtspUser) return { kind: 'error', message: `${arg} needs a NAME` };
    } else if (arg === '-c' || arg === '--config') {
      const file = argv[++i];
      if (!file) return { kind: 'error', message: `${arg} needs a FILE` };
      configFiles.push(file);
    } else if (arg.startsWith('--config=')) {
      configFiles.push(arg.slice('--config='.length));
    } else {
      return { kind: 'error', message: `unknown argument "${arg}"` };
    }
  }
  if (hash) return { kind: 'hash-password', rtspUser };
  if (rtspUser !== undefined) return { kind: 'error', message: '--rtsp-user goes with --hash-password' };
  return { kind: 'run', configFiles };
}
