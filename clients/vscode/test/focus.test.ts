import * as assert from "node:assert/strict";
import { FOCUS_DELAY_MS, FocusGate, FocusReporter, insertedSpan, type FocusParams, type Rest, type Timers } from "../src/focus";
import { ReadyAfterLoading } from "../src/status";

/** A clock the test moves by hand. */
class FakeTimers implements Timers {
  now = 0;
  private next = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();

  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.due.set(id, { at: this.now + ms, fn });
    return id;
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number);
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const [id, first] = [...this.due.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || !first || first.at > end) {
        break;
      }
      this.due.delete(id);
      this.now = first.at;
      first.fn();
    }
    this.now = end;
  }
}

const URI = "file:///work/textwrap.py";
const at = (line: number, character: number, version = 1, uri = URI): Rest => ({ uri, version, position: { line, character } });

/** An editor whose cursor the test moves, and the server's inbox. */
function setup(): { timers: FakeTimers; reporter: FocusReporter; sent: FocusParams[]; cursor: { now: Rest | undefined } } {
  const timers = new FakeTimers();
  const sent: FocusParams[] = [];
  const cursor: { now: Rest | undefined } = { now: undefined };
  const reporter = new FocusReporter({ read: () => cursor.now, send: (p) => sent.push(p), timers });
  return { timers, reporter, sent, cursor };
}

describe("codestral/didFocus", () => {
  it("tells the server where the cursor rests, as TextDocumentPositionParams", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = at(479, 12);
    reporter.moved();
    timers.advance(FOCUS_DELAY_MS);
    assert.deepEqual(sent, [{ textDocument: { uri: URI }, position: { line: 479, character: 12 } }]);
  });

  it("waits until the cursor stops: moving on within the delay sends only the last place", () => {
    const { timers, reporter, sent, cursor } = setup();
    for (let line = 10; line < 20; line++) {
      cursor.now = at(line, 0);
      reporter.moved();
      timers.advance(FOCUS_DELAY_MS - 50);
    }
    assert.equal(sent.length, 0);
    timers.advance(50);
    assert.deepEqual(sent.map((p) => p.position.line), [19]);
  });

  it("never sends the same document version and position twice", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = at(5, 4);
    reporter.moved();
    timers.advance(1000);
    cursor.now = at(6, 0);
    reporter.moved();
    timers.advance(1000);
    cursor.now = at(5, 4); // back where it was, nothing typed
    reporter.moved();
    timers.advance(1000);
    assert.deepEqual(sent.map((p) => [p.position.line, p.position.character]), [[5, 4], [6, 0]]);
  });

  it("sends a place again in a new version of the document", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = at(5, 4, 1);
    reporter.moved();
    timers.advance(1000);
    reporter.edited(URI, 2, [{ start: { line: 40, character: 0 }, text: "x" }]); // elsewhere
    cursor.now = at(5, 4, 2);
    reporter.moved();
    timers.advance(1000);
    assert.equal(sent.length, 2);
  });

  it("stays quiet right after typing: the edit and the inline request already told the server", () => {
    const { timers, reporter, sent, cursor } = setup();
    reporter.edited(URI, 2, [{ start: { line: 479, character: 12 }, text: "r" }]);
    cursor.now = at(479, 13, 2);
    reporter.moved();
    timers.advance(1000);
    assert.deepEqual(sent, []);
  });

  it("stays quiet after Enter with indentation, a deletion and auto-closed brackets", () => {
    const { timers, reporter, sent, cursor } = setup();
    reporter.edited(URI, 2, [{ start: { line: 3, character: 20 }, text: "\n        " }]);
    cursor.now = at(4, 8, 2);
    reporter.moved();
    timers.advance(1000);
    reporter.edited(URI, 3, [{ start: { line: 4, character: 7 }, text: "" }]); // Backspace
    cursor.now = at(4, 7, 3);
    reporter.moved();
    timers.advance(1000);
    reporter.edited(URI, 4, [{ start: { line: 4, character: 7 }, text: "()" }]);
    cursor.now = at(4, 8, 4); // between the brackets
    reporter.moved();
    timers.advance(1000);
    assert.deepEqual(sent, []);
  });

  it("reports a move away from the edit, once the cursor rests there", () => {
    const { timers, reporter, sent, cursor } = setup();
    reporter.edited(URI, 2, [{ start: { line: 10, character: 4 }, text: "pass" }]);
    cursor.now = at(10, 8, 2);
    reporter.moved();
    timers.advance(100);
    cursor.now = at(30, 0, 2); // clicked elsewhere before the pause was over
    reporter.moved();
    timers.advance(1000);
    assert.deepEqual(sent.map((p) => p.position), [{ line: 30, character: 0 }]);
  });

  it("an edit restarts the wait, like a move", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = at(1, 0);
    reporter.moved();
    timers.advance(FOCUS_DELAY_MS - 10);
    reporter.edited("file:///other.py", 7, [{ start: { line: 0, character: 0 }, text: "y" }]);
    timers.advance(FOCUS_DELAY_MS - 10);
    assert.deepEqual(sent, []);
    timers.advance(10);
    assert.equal(sent.length, 1);
  });

  it("sends nothing when the editor has nothing to report (several cursors, a selection, setting off)", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = undefined;
    reporter.moved();
    timers.advance(1000);
    assert.deepEqual(sent, []);
    cursor.now = at(2, 2); // the same place, now reportable
    reporter.moved();
    timers.advance(1000);
    assert.equal(sent.length, 1);
  });

  it("forgets everything for a new server, and a closed document", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = at(5, 4);
    reporter.moved();
    timers.advance(1000);
    reporter.reset();
    reporter.moved();
    timers.advance(1000);
    reporter.closed(URI);
    reporter.moved();
    timers.advance(1000);
    assert.equal(sent.length, 3);
  });

  it("a reset cancels a pending report", () => {
    const { timers, reporter, sent, cursor } = setup();
    cursor.now = at(5, 4);
    reporter.moved();
    reporter.reset();
    timers.advance(1000);
    assert.deepEqual(sent, []);
  });
});

describe("FocusGate", () => {
  it("keeps documents apart", () => {
    const gate = new FocusGate();
    assert.equal(gate.shouldSend(at(1, 1, 1, "file:///a.py")), true);
    assert.equal(gate.shouldSend(at(1, 1, 1, "file:///b.py")), true);
    assert.equal(gate.shouldSend(at(1, 1, 1, "file:///a.py")), false);
  });
});

describe("insertedSpan", () => {
  it("ends after the inserted text, in UTF-16 units, across lines", () => {
    assert.deepEqual(insertedSpan({ start: { line: 2, character: 4 }, text: "é😀" }).end, { line: 2, character: 7 });
    assert.deepEqual(insertedSpan({ start: { line: 2, character: 4 }, text: "a\r\n  bc" }).end, { line: 3, character: 4 });
    assert.deepEqual(insertedSpan({ start: { line: 2, character: 4 }, text: "" }).end, { line: 2, character: 4 });
  });
});

describe("suggestions again once the model is ready", () => {
  it("fires once for the ready that ends a load", () => {
    const edge = new ReadyAfterLoading();
    assert.deepEqual(["loading", "loading", "ready", "working", "ready"].map((s) => edge.update(s as "ready")), [false, false, true, false, false]);
  });

  it("does not fire for a server that was ready from the start, or after a reset", () => {
    const edge = new ReadyAfterLoading();
    assert.equal(edge.update("ready"), false);
    edge.update("loading");
    edge.reset();
    assert.equal(edge.update("ready"), false);
  });

  it("fires after a reload that went through an error", () => {
    const edge = new ReadyAfterLoading();
    assert.deepEqual(["ready", "loading", "error", "loading", "ready"].map((s) => edge.update(s as "ready")), [false, false, false, false, true]);
  });
});
