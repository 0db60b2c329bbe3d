/**
 * IncidentStore: a bounded folder of incidents. Each incident is `<id>.json` (time, rule, values,
 * streams, files) plus the profiles captured with it (`<id>.cpuprofile`, `<id>.heapprofile`); the
 * oldest incidents are removed first. Files are looked up by exact name against a strict pattern,
 * so a request can never reach outside the folder.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Breach } from './rules.ts';

/** An incident as stored in `<id>.json` and listed by GET /api/incidents. */
export interface Incident {
  /** `20240501T120000123Z-event_loop_lag`: sorts by time. */
  id: string;
  /** ISO 8601. */
  time: string;
  rule: string;
  message: string;
  values: Record<string, number | string>;
  streams: string[];
  /** Names of the profile files of this incident in the folder. */
  files: string[];
  /** What could not be captured, and why. */
  notes: string[];
}

/** What the store captures for an incident: file extension (`cpuprofile`) -> JSON value. */
export type Capture = () => Promise<Record<string, unknown>>;

const ID = /^\d{8}T\d{9}Z-[a-z_]{1,40}(-\d{1,4})?$/;
const FILE = /^(\d{8}T\d{9}Z-[a-z_]{1,40}(?:-\d{1,4})?)\.(json|cpuprofile|heapprofile)$/;

export class IncidentStore {
  readonly dir: string;
  /** Ids given out in the current millisecond, to keep them unique. */
  #stamp = '';
  readonly #used = new Set<string>();

  /**
   * @param dir the folder (created on the first incident)
   * @param max incidents kept, at least 1
   */
  constructor(
    dir: string,
    readonly max: number,
  ) {
    this.dir = resolve(dir);
  }

  /**
   * Records an incident: writes its JSON at once (so it is listed while the profiles are being
   * taken), runs `capture`, writes each profile and then the JSON again with the file names.
   * A failed capture is noted in the incident, not thrown.
   */
  async record(breach: Breach, capture?: Capture, now = new Date()): Promise<Incident> {
    await mkdir(this.dir, { recursive: true });
    const incident: Incident = {
      id: this.#newId(now, breach.rule),
      time: now.toISOString(),
      rule: breach.rule,
      message: breach.message,
      values: breach.values,
      streams: breach.streams,
      files: [],
      notes: [],
    };
    await this.#writeJson(incident);
    await this.prune();
    if (capture) {
      try {
        const profiles = await capture();
        for (const [ext, value] of Object.entries(profiles)) {
          const name = `${incident.id}.${ext}`;
          if (!FILE.test(name)) continue;
          await writeFile(join(this.dir, name), JSON.stringify(value));
          incident.files.push(name);
        }
      } catch (err) {
        incident.notes.push(`profiles not captured: ${(err as Error).message}`);
      }
      await this.#writeJson(incident);
    }
    return incident;
  }

  /** The incidents in the folder, newest first. Unreadable entries are skipped. */
  async list(): Promise<Incident[]> {
    const ids = (await this.#ids()).reverse();
    const out: Incident[] = [];
    for (const id of ids) {
      try {
        out.push(JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as Incident);
      } catch {
        // removed right now, or not an incident of ours
      }
    }
    return out;
  }

  /** The absolute path of an incident file, or undefined if the name is not one of ours or absent. */
  async resolveFile(name: string): Promise<string | undefined> {
    if (typeof name !== 'string' || !FILE.test(name)) return undefined;
    const path = resolve(this.dir, name);
    if (!path.startsWith(this.dir + sep)) return undefined;
    try {
      return (await stat(path)).isFile() ? path : undefined;
    } catch {
      return undefined;
    }
  }

  /** Removes the oldest incidents (all their files) beyond `max`. Files not of ours are left alone. */
  async prune(): Promise<void> {
    const ids = await this.#ids();
    const drop = new Set(ids.slice(0, Math.max(0, ids.length - Math.max(1, this.max))));
    if (drop.size === 0) return;
    for (const name of await this.#names()) {
      const m = FILE.exec(name);
      if (m && drop.has(m[1])) await rm(join(this.dir, name), { force: true });
    }
  }

  /** Incident ids, oldest first: every id with a file (a half-removed one counts, to be pruned). */
  async #ids(): Promise<string[]> {
    const ids = new Set<string>();
    for (const name of await this.#names()) {
      const m = FILE.exec(name);
      if (m) ids.add(m[1]);
    }
    return [...ids].sort();
  }

  async #names(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch {
      return [];
    }
  }

  /** Written to a temporary name and renamed, so that list() never reads half a file. */
  async #writeJson(incident: Incident): Promise<void> {
    const tmp = join(this.dir, `.${incident.id}.json.tmp`);
    await writeFile(tmp, `${JSON.stringify(incident, null, 2)}\n`);
    await rename(tmp, join(this.dir, `${incident.id}.json`));
  }

  #newId(now: Date, rule: string): string {
    const stamp = now.toISOString().replace(/[-:.]/g, '');
    if (stamp !== this.#stamp) {
      this.#stamp = stamp;
      this.#used.clear();
    }
    let id = `${stamp}-${rule}`;
    for (let n = 2; this.#used.has(id); n++) id = `${stamp}-${rule}-${n}`;
    if (!ID.test(id)) throw new Error(`invalid incident id ${id}`);
    this.#used.add(id);
    return id;
  }
}
