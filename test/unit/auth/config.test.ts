import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load.ts';

describe('the auth: and api: TLS config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mediagate-auth-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const load = (text: string) => {
    const path = join(dir, 'mediagate.yaml');
    writeFileSync(path, text);
    return loadConfig([path]);
  };

  test('loadConfig() normalizes users, their streams and the auth options with their defaults', () => {
    const c = load(
      [
        'auth:',
        '  users:',
        '    admin: { password: x, role: admin }',
        '    alice:',
        '      password: y',
        '      streams: [demo, door]',
        '      publish: pushed',
        '      rtsp_ha1: 0123456789ABCDEF0123456789abcdef',
        '    nvr: { password: z, streams: "*" }',
        '  token_secret: 0123456789abcdef-secret',
        'api:',
        '  tls_listen: ":8443"',
        '  tls_cert: cert.pem',
        '  tls_key: /etc/key.pem',
        '  file_root: /srv/media',
      ].join('\n'),
    );
    assert.deepEqual(c.auth?.users, {
      admin: { password: 'x', role: 'admin', streams: [], publish: [], rtspHa1: undefined },
      alice: {
        password: 'y',
        role: 'viewer',
        streams: ['demo', 'door'],
        publish: ['pushed'],
        rtspHa1: '0123456789abcdef0123456789abcdef',
      },
      nvr: { password: 'z', role: 'viewer', streams: '*', publish: [], rtspHa1: undefined },
    });
    assert.equal(c.auth?.localhostBypass, false);
    assert.equal(c.auth?.tokenMaxTtlS, 86400);
    assert.equal(c.auth?.publicMetrics, false);
    assert.equal(c.auth?.publicHealth, true);
    assert.equal(c.auth?.tokenSecret, '0123456789abcdef-secret');
    assert.equal(c.api.tlsListen, ':8443');
    assert.equal(c.api.tlsCert, join(process.cwd(), 'cert.pem'));
    assert.equal(c.api.tlsKey, '/etc/key.pem');
    assert.equal(c.api.fileRoot, '/srv/media');
    assert.equal(load('streams: {}').auth, undefined, 'no auth: section, no auth');
  });

  test('loadConfig() throws ConfigError naming the key of a bad auth entry', () => {
    const cases: [string, RegExp][] = [
      ['auth:\n  users: {}\n', /auth\.users: must NOT have fewer than 1 properties/],
      ['auth:\n  localhost_bypass: true\n', /auth: must have required property 'users'/],
      ['auth:\n  users:\n    a: { role: admin }\n', /auth\.users\.a: must have required property 'password'/],
      [
        'auth:\n  users:\n    a: { password: x, role: root }\n',
        /auth\.users\.a\.role: must be one of admin, viewer/,
      ],
      ['auth:\n  users:\n    a: { password: x, rtsp_ha1: nothex }\n', /auth\.users\.a\.rtsp_ha1/],
      ['auth:\n  users:\n    a: { password: x, streamz: [a] }\n', /auth\.users\.a\.streamz: unknown key/],
      ['auth:\n  users:\n    a: { password: x }\n  token_secret: short\n', /auth\.token_secret/],
      ['api:\n  tls_listen: "8443"\n', /api\.tls_listen: must be "\[host\]:port"/],
    ];
    for (const [text, message] of cases)
      assert.throws(
        () => load(text),
        (e: Error) => e instanceof ConfigError && message.test(e.message),
        text,
      );
  });
});
