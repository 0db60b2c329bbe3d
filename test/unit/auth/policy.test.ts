import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { permits, requirementOf } from '../../../src/auth/policy.ts';
import type { Principal, Requirement } from '../../../src/auth/types.ts';

const q = (s: string) => new URLSearchParams(s);

const admin: Principal = { user: 'root', role: 'admin', read: '*', publish: '*', via: 'basic' };
const alice: Principal = {
  user: 'alice',
  role: 'viewer',
  read: new Set(['demo', 'door']),
  publish: new Set(['pushed']),
  via: 'basic',
};
const token: Principal = {
  user: 'alice',
  role: 'viewer',
  read: new Set(['demo']),
  publish: new Set(),
  via: 'token',
};

/** method, path, query, what it needs, and who may: [admin, alice, token of alice for demo, nobody]. */
const TABLE: [string, string, string, Requirement['kind'], [boolean, boolean, boolean, boolean]][] = [
  ['GET', '/', '', 'public', [true, true, true, true]],
  ['GET', '/login.html', '', 'public', [true, true, true, true]],
  ['GET', '/auth.js', '', 'public', [true, true, true, true]],
  ['OPTIONS', '/api/streams', '', 'public', [true, true, true, true]],
  ['GET', '/api/health', '', 'public', [true, true, true, true]],
  ['GET', '/metrics', '', 'admin', [true, false, false, false]],
  ['GET', '/api', '', 'user', [true, true, true, false]],
  ['GET', '/api/me', '', 'user', [true, true, true, false]],
  ['GET', '/api/token', 'src=demo', 'user', [true, true, true, false]],
  ['GET', '/api/streams', '', 'user', [true, true, true, false]],
  ['GET', '/api/streams', 'src=demo', 'streams', [true, true, true, false]],
  ['GET', '/api/streams', 'src=door', 'streams', [true, true, false, false]],
  ['GET', '/api/streams', 'src=other', 'streams', [true, false, false, false]],
  ['PUT', '/api/streams', 'name=x&src=file:/x.mp4', 'admin', [true, false, false, false]],
  ['PATCH', '/api/streams', 'name=demo&src=file:/x.mp4', 'admin', [true, false, false, false]],
  ['DELETE', '/api/streams', 'src=demo', 'admin', [true, false, false, false]],
  ['POST', '/api/streams', 'src=demo', 'admin', [true, false, false, false]],
  ['GET', '/api/streams.dot', '', 'admin', [true, false, false, false]],
  ['GET', '/api/debug/heap', '', 'admin', [true, false, false, false]],
  ['GET', '/api/debug/cpu', 'src=demo', 'admin', [true, false, false, false]],
  ['GET', '/api/log', '', 'admin', [true, false, false, false]],
  ['GET', '/api/incidents', '', 'admin', [true, false, false, false]],
  ['GET', '/api/incidents/file', 'name=x.json', 'admin', [true, false, false, false]],
  ['GET', '/api/config', '', 'admin', [true, false, false, false]],
  ['GET', '/api/ws', 'src=demo', 'streams', [true, true, true, false]],
  ['GET', '/api/ws', 'src=other', 'streams', [true, false, false, false]],
  ['GET', '/api/ws', 'src=demo&src=other', 'streams', [true, false, false, false]],
  ['GET', '/api/ws', 'dst=pushed', 'streams', [true, true, false, false]],
  ['GET', '/api/ws', 'src=demo&dst=demo', 'streams', [true, false, false, false]],
  ['GET', '/api/ws', '', 'admin', [true, false, false, false]],
  ['POST', '/api/webrtc', 'src=demo', 'streams', [true, true, true, false]],
  ['POST', '/api/webrtc', 'src=door', 'streams', [true, true, false, false]],
  ['POST', '/api/webrtc', 'dst=pushed', 'streams', [true, true, false, false]],
  ['POST', '/api/webrtc', '', 'admin', [true, false, false, false]],
  ['DELETE', '/api/webrtc', 'id=abc', 'session', [true, true, true, true]],
  ['PATCH', '/api/webrtc', 'id=abc', 'session', [true, true, true, true]],
  ['GET', '/api/stream.m3u8', 'src=demo', 'streams', [true, true, true, false]],
  ['GET', '/api/hls/playlist.m3u8', 'id=abc', 'session', [true, true, true, true]],
  ['GET', '/api/hls/segment.m4s', 'id=abc&n=1', 'session', [true, true, true, true]],
  ['GET', '/api/stream.mp4', 'src=demo', 'streams', [true, true, true, false]],
  ['HEAD', '/api/stream.mp4', 'src=other', 'streams', [true, false, false, false]],
  ['GET', '/api/stream.mp4', 'src=demo&name=other', 'streams', [true, false, false, false]],
  ['GET', '/api/frame.mp4', 'src=door', 'streams', [true, true, false, false]],
  ['GET', '/api/frame.jpeg', 'src=demo', 'streams', [true, true, true, false]],
  ['GET', '/api/frame.jpeg', '', 'user', [true, true, true, false]],
  ['POST', '/api/stream.flv', 'dst=pushed', 'streams', [true, true, false, false]],
  ['POST', '/api/stream.flv', 'dst=demo', 'streams', [true, false, false, false]],
  ['POST', '/api/stream.flv', '', 'admin', [true, false, false, false]],
  ['GET', '/api/stream.flv', 'src=demo', 'streams', [true, true, true, false]],
  ['POST', '/api/streams', 'dst=demo&src=file:/a.mp3', 'admin', [true, false, false, false]],
  ['GET', '/api/recordings', 'src=demo', 'streams', [true, true, true, false]],
  ['GET', '/api/recordings/file', 'src=door&name=x.mp4', 'streams', [true, true, false, false]],
  ['GET', '/api/recordings', '', 'admin', [true, false, false, false]],
  ['DELETE', '/api/recordings/file', 'src=demo&name=x.mp4', 'admin', [true, false, false, false]],
  ['POST', '/api/record', 'src=demo', 'admin', [true, false, false, false]],
  ['GET', '/api/record', '', 'admin', [true, false, false, false]],
  ['POST', '/api/debug/gc', '', 'admin', [true, false, false, false]],
];

describe('access policy', () => {
  test('requirementOf() and permits() give every route of the table its requirement and its users', () => {
    for (const [method, path, query, kind, allowed] of TABLE) {
      const need = requirementOf(method, path, q(query));
      const what = `${method} ${path}?${query}`;
      assert.equal(need.kind, kind, what);
      const got = [admin, alice, token, undefined].map((p) => permits(p, need));
      assert.deepEqual(got, allowed, what);
    }
  });

  test('requirementOf() opens /metrics and closes /api/health as the options say', () => {
    assert.equal(requirementOf('GET', '/metrics', q(''), { publicMetrics: true }).kind, 'public');
    assert.equal(requirementOf('GET', '/api/health', q(''), { publicHealth: false }).kind, 'user');
  });

  test('permits() lets a principal with every stream view and publish any stream name', () => {
    const all: Principal = { user: 'v', role: 'viewer', read: '*', publish: '*', via: 'basic' };
    assert.equal(permits(all, requirementOf('GET', '/api/ws', q('src=anything&dst=else'))), true);
    assert.equal(permits(all, requirementOf('PUT', '/api/streams', q('name=x&src=y'))), false);
  });
});
