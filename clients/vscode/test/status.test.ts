import * as assert from "node:assert/strict";
import { computeStatus, parseServerStatus, type ServerStatus, type StatusInputs } from "../src/status";

const base: StatusInputs = { client: "running", globallyEnabled: true, languageEnabled: true, languageId: "python", inFlight: 0 };
const server = (s: Partial<ServerStatus>): ServerStatus => ({
  state: "ready", backend: "local", model: "qwen2.5-coder-0.5b-q4_k_m.gguf", message: "", progress: null, lastLatencyMs: null, ...s,
});

describe("status bar", () => {
  it("shows the loading percentage from $/progress", () => {
    const v = computeStatus({ ...base, server: server({ state: "loading", message: "loading model" }), progress: 42 });
    assert.equal(v.shown, "loading");
    assert.equal(v.text, "$(loading~spin) Codestral 42%");
    assert.match(v.label, /loading 42%/);
  });

  it("falls back to the status notification's progress", () => {
    const v = computeStatus({ ...base, server: server({ state: "loading", progress: 7.6 }) });
    assert.equal(v.text, "$(loading~spin) Codestral 8%");
  });

  it("shows loading without a number when there is none", () => {
    const v = computeStatus({ ...base, server: server({ state: "loading", message: "starting" }) });
    assert.equal(v.text, "$(loading~spin) Codestral");
    assert.match(v.tooltip, /starting/);
  });

  it("is ready with backend, model and last latency in the tooltip", () => {
    const v = computeStatus({ ...base, server: server({ lastLatencyMs: 312 }) });
    assert.equal(v.shown, "ready");
    assert.equal(v.text, "$(check) Codestral");
    assert.match(v.tooltip, /Backend: local/);
    assert.match(v.tooltip, /Model: qwen2\.5-coder/);
    assert.match(v.tooltip, /Last latency: 312 ms/);
  });

  it("is working while a request is in flight or the server says so", () => {
    assert.equal(computeStatus({ ...base, server: server({}), inFlight: 1 }).shown, "working");
    assert.equal(computeStatus({ ...base, server: server({ state: "working" }) }).shown, "working");
  });

  it("says when the current language is disabled, and that wins over working", () => {
    const v = computeStatus({ ...base, server: server({}), languageId: "markdown", languageEnabled: false, inFlight: 1 });
    assert.equal(v.shown, "language-disabled");
    assert.match(v.text, /markdown off/);
  });

  it("is off when disabled globally, even while loading", () => {
    const v = computeStatus({ ...base, globallyEnabled: false, server: server({ state: "loading" }), progress: 10 });
    assert.equal(v.shown, "disabled");
  });

  it("shows server errors in red with the message", () => {
    const v = computeStatus({ ...base, server: server({ state: "error", message: "model file not found" }) });
    assert.equal(v.shown, "error");
    assert.equal(v.severity, "error");
    assert.match(v.tooltip, /model file not found/);
  });

  it("warns when the server executable is missing", () => {
    const v = computeStatus({ ...base, client: "missing" });
    assert.equal(v.shown, "missing");
    assert.equal(v.severity, "warning");
  });

  it("reports a crashed server as an error", () => {
    const v = computeStatus({ ...base, client: "failed", clientMessage: "exited with code 1" });
    assert.equal(v.shown, "error");
    assert.match(v.label, /exited with code 1/);
  });

  it("is starting before the first status arrives", () => {
    assert.equal(computeStatus({ ...base, client: "starting" }).shown, "starting");
  });
});

describe("parseServerStatus", () => {
  it("accepts the documented payload", () => {
    const s = parseServerStatus({ state: "ready", backend: "local", model: "m", message: "", progress: null, lastLatencyMs: 12 });
    assert.deepEqual(s, { state: "ready", backend: "local", model: "m", message: "", progress: null, lastLatencyMs: 12 });
  });

  it("rejects unknown states and non-objects", () => {
    assert.equal(parseServerStatus({ state: "sleeping" }), undefined);
    assert.equal(parseServerStatus(null), undefined);
    assert.equal(parseServerStatus("ready"), undefined);
  });
});
