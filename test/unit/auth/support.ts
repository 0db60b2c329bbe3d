/** Shared fixtures of the auth unit tests: a config with an admin and viewers, and an AuthService on it. */
import { AuthService } from '../../../src/auth/index.ts';
import type { ThrottleOptions } from '../../../src/auth/throttle.ts';
import type { AuthConfig, AuthUserConfig } from '../../../src/config/schema.ts';
import { silentLogger } from '../../../src/log/logger.ts';

/** A stored hash of "admin-pass" (N=1024: cheap for tests), scryptSync with the salt "test-salt-123456". */
export const ADMIN_HASH =
  'scrypt$1024$8$1$dGVzdC1zYWx0LTEyMzQ1Ng$dfXqDMH1x-ID76o6CjTJJ48TNoUiBV_991N1ANr0ZQQ';

function user(u: Partial<AuthUserConfig> & { password: string }): AuthUserConfig {
  return { role: 'viewer', streams: [], publish: [], ...u };
}

export function authConfig(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    users: {
      admin: user({ password: ADMIN_HASH, role: 'admin' }),
      alice: user({ password: 'alice-pass', streams: ['cam', 'demo'], publish: ['pushed'] }),
      bob: user({ password: 'bob-pass', streams: ['other'] }),
    },
    localhostBypass: false,
    tokenMaxTtlS: 3600,
    publicMetrics: false,
    publicHealth: true,
    ...overrides,
  };
}

export function authService(
  overrides: Partial<AuthConfig> = {},
  throttle: ThrottleOptions = {},
): AuthService {
  return new AuthService(authConfig(overrides), silentLogger(), throttle);
}

export const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
