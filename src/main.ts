/**
 * Process entry point: parse the command line, load the config, run the gateway and shut it down
 * gracefully on SIGINT/SIGTERM (exit 0 within 3 s); SIGHUP reloads the TLS certificate.
 */
import { hashPasswordCommand } from './auth/cli.ts';
import { parseArgs, USAGE } from './cli.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { Gateway } from './gateway.ts';
import { createLogging } from './log/logger.ts';
import { VERSION } from './version.ts';

/** Shutdown is forced after this long, to keep the 3 s promise even if a peer hangs. */
const SHUTDOWN_DEADLINE_MS = 2500;

async function main(): Promise<number | undefined> {
  const cmd = parseArgs(process.argv.slice(2));
  if (cmd.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (cmd.kind === 'version') {
    process.stdout.write(`mediagate ${VERSION}\n`);
    return 0;
  }
  if (cmd.kind === 'hash-password') return hashPasswordCommand(cmd.rtspUser);
  if (cmd.kind === 'error') {
    process.stderr.write(`mediagate: ${cmd.message}\n\n${USAGE}`);
    return 2;
  }
  let gateway: Gateway;
  try {
    const config = loadConfig(cmd.configFiles);
    const logging = createLogging({ level: config.log.level, modules: config.log.modules });
    logging.root.info({ version: VERSION, files: config.files }, 'mediagate starting');
    gateway = new Gateway(config, logging);
    installSignals(gateway);
    await gateway.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mediagate: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`mediagate: cannot start: ${(err as Error).stack ?? err}\n`);
    return 1;
  }
  return undefined; // keep running
}

function installSignals(gateway: Gateway): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const log = gateway.logging.root;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.warn('shutdown took too long, exiting');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    force.unref();
    gateway.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'stopped with errors');
        process.exit(0);
      },
    );
  };
  process.on('SIGHUP', () => void gateway.reloadTls());
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().then((code) => {
  if (code !== undefined) process.exit(code);
});
