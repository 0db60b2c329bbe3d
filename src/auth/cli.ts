/**
 * `mediagate --hash-password [--rtsp-user NAME]`: reads a password from stdin (one line, or all
 * of a pipe) and prints its scrypt hash for `auth.users.NAME.password`. With `--rtsp-user NAME`
 * it prints the two lines of the user entry instead, `password:` and `rtsp_ha1:` (the RTSP Digest
 * HA1, which needs the user name and cannot be derived from the hash later).
 */
import { digestHa1, hashPassword } from './password.ts';
import { REALM } from './types.ts';

/** Reads stdin to its end, at most 4 KiB. */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is shown; end with Enter, then Ctrl-D): ');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new Error('password longer than 4096 bytes');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs the command; resolves with the exit code. */
export async function hashPasswordCommand(rtspUser: string | undefined): Promise<number> {
  if (rtspUser !== undefined && !/^[A-Za-z0-9._@-]{1,64}$/.test(rtspUser)) {
    process.stderr.write('mediagate: --rtsp-user: a user name is 1-64 of A-Z a-z 0-9 . _ @ -\n');
    return 2;
  }
  let password: string;
  try {
    password = (await readStdin()).replace(/\r?\n$/, '');
  } catch (err) {
    process.stderr.write(`mediagate: ${(err as Error).message}\n`);
    return 2;
  }
  if (password === '') {
    process.stderr.write('mediagate: empty password on stdin\n');
    return 2;
  }
  const hash = await hashPassword(password);
  if (rtspUser === undefined) process.stdout.write(`${hash}\n`);
  else process.stdout.write(`password: "${hash}"\nrtsp_ha1: "${digestHa1(rtspUser, REALM, password)}"\n`);
  return 0;
}
