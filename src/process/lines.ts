/**
 * LineRing: splits a child's text output into lines and keeps the last few, for the log and for
 * the error that says why the child failed. Bounded in lines and in line length, so a child that
 * writes megabytes without a newline cannot grow memory.
 */

/** Longest line kept, in characters; the rest of a longer line is cut. */
export const MAX_LINE_LENGTH = 500;

export class LineRing {
  #lines: string[] = [];
  #partial = '';

  /** @param size lines kept (at least 1). */
  constructor(readonly size: number) {}

  /** Adds output; returns the complete lines it finished (empty lines skipped, each trimmed). */
  push(text: string): string[] {
    const parts = (this.#partial + text).split(/\r\n|\r|\n/);
    this.#partial = (parts.pop() ?? '').slice(0, MAX_LINE_LENGTH);
    const done: string[] = [];
    for (const part of parts) {
      const line = part.trimEnd().slice(0, MAX_LINE_LENGTH);
      if (line === '') continue;
      done.push(line);
      this.#keep(line);
    }
    return done;
  }

  /** Ends the output: an unterminated last line counts as a line. Returns it (or nothing). */
  flush(): string[] {
    const line = this.#partial.trimEnd();
    this.#partial = '';
    if (line === '') return [];
    this.#keep(line);
    return [line];
  }

  /** The kept lines, oldest first (a copy). */
  lines(): string[] {
    return [...this.#lines];
  }

  #keep(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > Math.max(1, this.size)) this.#lines.shift();
  }
}
