/**
 * When to tell the server "the cursor rests here" (`codestral/didFocus`), so it can evaluate the
 * model's prompt at that place before the user types there. Pure (no `vscode` import) so it is
 * unit-tested; `extension.ts` feeds it the editor's events.
 *
 * - A rest is the editor's state once no selection change, editor switch or edit of the document
 *   has happened for `delayMs` (a held arrow key or a burst of clicks sends nothing).
 * - Never twice for the same (document, version, position).
 * - Never where the last edit of the document left the cursor: the `didChange` and the inline
 *   completion request that VS Code sends after every edit already tell the server.
 */

/** A position in LSP terms: 0-based line, UTF-16 code units (what VS Code uses too). */
export interface Pos {
  readonly line: number;
  readonly character: number;
}

/** The cursor resting in a document, as read from the editor when the pause is over. */
export interface Rest {
  readonly uri: string;
  readonly version: number;
  readonly position: Pos;
}

/** One content change: where it starts and the text it put there (`range.start`, `text`). */
export interface Change {
  readonly start: Pos;
  readonly text: string;
}

/** The payload of `codestral/didFocus`: exactly LSP's TextDocumentPositionParams. */
export interface FocusParams {
  readonly textDocument: { readonly uri: string };
  readonly position: Pos;
}

export const FOCUS_METHOD = "codestral/didFocus";
export const FOCUS_DELAY_MS = 250;

export function focusParams(rest: Rest): FocusParams {
  return {
    textDocument: { uri: rest.uri },
    position: { line: rest.position.line, character: rest.position.character },
  };
}

interface Span {
  readonly start: Pos;
  readonly end: Pos;
}

/** Where a change's text lies once it is applied: from its start to the end of what it inserted
 *  (a deletion is the single position it left). The cursor of the user who made the edit is in
 *  there: after typed text, between auto-closed brackets, at the start of a deletion. */
export function insertedSpan(change: Change): Span {
  const lines = change.text.split(/\r\n|\r|\n/);
  const last = lines[lines.length - 1] ?? "";
  const end =
    lines.length === 1
      ? { line: change.start.line, character: change.start.character + last.length }
      : { line: change.start.line + lines.length - 1, character: last.length };
  return { start: change.start, end };
}

function compare(a: Pos, b: Pos): number {
  return a.line !== b.line ? a.line - b.line : a.character - b.character;
}

function within(p: Pos, span: Span): boolean {
  return compare(span.start, p) <= 0 && compare(p, span.end) <= 0;
}

interface DocState {
  readonly version: number;
  readonly edited: Span[];
  readonly sent: Set<string>;
}

/** Positions kept per document version before the oldest are forgotten (a bound, not a policy). */
const MAX_SENT = 512;

/** Decides, rest by rest, whether the server should hear about it. */
export class FocusGate {
  private readonly docs = new Map<string, DocState>();

  /** The edit that made `version` of `uri`. */
  edited(uri: string, version: number, changes: readonly Change[]): void {
    const state = this.state(uri, version);
    state.edited.push(...changes.map(insertedSpan));
  }

  /** True when `rest` should be sent; it then counts as sent. */
  shouldSend(rest: Rest): boolean {
    const state = this.state(rest.uri, rest.version);
    const key = `${rest.position.line}:${rest.position.character}`;
    if (state.sent.has(key)) {
      return false;
    }
    if (state.sent.size >= MAX_SENT) {
      state.sent.clear();
    }
    state.sent.add(key);
    return !state.edited.some((span) => within(rest.position, span));
  }

  /** The document was closed: its next version starts afresh anyway. */
  forget(uri: string): void {
    this.docs.delete(uri);
  }

  /** A new server process knows nothing: everything may be sent again. */
  reset(): void {
    this.docs.clear();
  }

  private state(uri: string, version: number): DocState {
    const old = this.docs.get(uri);
    if (old && old.version === version) {
      return old;
    }
    const fresh: DocState = { version, edited: [], sent: new Set() };
    this.docs.set(uri, fresh);
    return fresh;
  }
}

/** `setTimeout`/`clearTimeout`, injectable so the tests control time. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface FocusReporterOptions {
  /** The editor now: the resting cursor, or `undefined` when there is nothing to report (no
   *  handled editor, several cursors, a selection, the setting off, no running server). */
  readonly read: () => Rest | undefined;
  readonly send: (params: FocusParams) => void;
  readonly delayMs?: number;
  readonly timers?: Timers;
}

/** Debounces the editor's events into rests and sends the ones the gate lets through. */
export class FocusReporter {
  private readonly gate = new FocusGate();
  private readonly delayMs: number;
  private readonly timers: Timers;
  private pending: unknown;

  constructor(private readonly options: FocusReporterOptions) {
    this.delayMs = options.delayMs ?? FOCUS_DELAY_MS;
    this.timers = options.timers ?? realTimers;
  }

  /** The selection changed or another editor became active: report once it stays put. */
  moved(): void {
    this.schedule();
  }

  /** A document changed (any editor): remember where, and wait for the rest after it. */
  edited(uri: string, version: number, changes: readonly Change[]): void {
    this.gate.edited(uri, version, changes);
    this.schedule();
  }

  closed(uri: string): void {
    this.gate.forget(uri);
  }

  /** The server (re)started. */
  reset(): void {
    this.cancel();
    this.gate.reset();
  }

  cancel(): void {
    if (this.pending !== undefined) {
      this.timers.clear(this.pending);
      this.pending = undefined;
    }
  }

  dispose(): void {
    this.cancel();
  }

  private schedule(): void {
    this.cancel();
    this.pending = this.timers.set(() => {
      this.pending = undefined;
      this.fire();
    }, this.delayMs);
  }

  private fire(): void {
    const rest = this.options.read();
    if (rest && this.gate.shouldSend(rest)) {
      this.options.send(focusParams(rest));
    }
  }
}
