/**
 * GET /api/streams.dot: the streams as a Graphviz digraph, one cluster per stream, edges from each
 * source to the tracks it feeds and from each track to the consumers reading it. `toDot()` is pure;
 * `streamGraph()` reads a live Stream.
 */
import type { Stream } from '../core/stream.ts';

export interface StreamGraph {
  name: string;
  sources: { url: string; state: string; bitrate: number; trackIds: number[] }[];
  tracks: { id: number; kind: string; codec: string }[];
  consumers: { id: number; type: string; remoteAddress?: string; bitrate: number; trackIds: number[] }[];
}

/** A snapshot of a stream's sources, tracks and consumers. */
export function streamGraph(stream: Stream): StreamGraph {
  const tracks = new Map<number, StreamGraph['tracks'][number]>();
  const sources = stream.sources.map((runner) => {
    for (const t of runner.tracks) tracks.set(t.id, { id: t.id, kind: t.kind, codec: t.codec.name });
    return {
      url: runner.url,
      state: runner.state,
      bitrate: runner.bitrate,
      trackIds: runner.tracks.map((t) => t.id),
    };
  });
  const consumers = stream.consumers.map((c) => {
    for (const t of c.tracks)
      if (!tracks.has(t.id)) tracks.set(t.id, { id: t.id, kind: t.kind, codec: t.codec.name });
    return {
      id: c.id,
      type: c.type,
      remoteAddress: c.remoteAddress,
      bitrate: c.bitrate,
      trackIds: c.tracks.map((t) => t.id),
    };
  });
  return { name: stream.name, sources, tracks: [...tracks.values()].sort((a, b) => a.id - b.id), consumers };
}

/** The Graphviz text of the given streams. Node ids are generated; every label is quoted and escaped. */
export function toDot(graphs: StreamGraph[]): string {
  const lines = [
    'digraph mediagate {',
    '  rankdir=LR;',
    '  node [shape=box, fontname="sans-serif", fontsize=10];',
  ];
  graphs.forEach((g, i) => {
    const id = (kind: string, n: number) => `"s${i}_${kind}${n}"`;
    lines.push(`  subgraph "cluster_${i}" {`, `    label=${quote(g.name)};`);
    g.sources.forEach((s, n) => {
      const label = [s.url, s.state, s.bitrate > 0 ? formatBitrate(s.bitrate) : '']
        .filter(Boolean)
        .join('\n');
      lines.push(`    ${id('src', n)} [shape=ellipse, label=${quote(label)}];`);
    });
    for (const t of g.tracks) lines.push(`    ${id('t', t.id)} [label=${quote(`${t.kind} ${t.codec}`)}];`);
    for (const c of g.consumers) {
      const label = [
        `${c.type} #${c.id}`,
        c.remoteAddress ?? '',
        c.bitrate > 0 ? formatBitrate(c.bitrate) : '',
      ]
        .filter(Boolean)
        .join('\n');
      lines.push(`    ${id('c', c.id)} [shape=note, label=${quote(label)}];`);
    }
    g.sources.forEach((s, n) => {
      for (const t of s.trackIds) lines.push(`    ${id('src', n)} -> ${id('t', t)};`);
    });
    for (const c of g.consumers)
      for (const t of c.trackIds) lines.push(`    ${id('t', t)} -> ${id('c', c.id)};`);
    lines.push('  }');
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** `1.5 Mbit/s`, `320 kbit/s`. */
export function formatBitrate(bps: number): string {
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(1)} Mbit/s`;
  if (bps >= 1e3) return `${Math.round(bps / 1e3)} kbit/s`;
  return `${Math.round(bps)} bit/s`;
}

/** A DOT quoted string: backslashes and quotes escaped, line breaks as `\n`. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`;
}
