import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  CLIENT_ONLY,
  PASSTHROUGH,
  isLanguageEnabled,
  serverDefaults,
  settingForMessage,
  toServerSettings,
  withLanguage,
  withResets,
} from "../src/settings";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  contributes: { configuration: { properties: Record<string, { default: unknown; markdownDescription?: string; enum?: unknown[] }> } };
};
const props = pkg.contributes.configuration.properties;

// The keys the server documents for clients (HELPERS.md / codestral_ls/config.py), minus api_key
// (SecretStorage) and enabled/disabled_languages (from codestral.enable).
const SERVER_KEYS = [
  "backend", "model", "template", "max_tokens", "temperature", "prefix_tokens", "suffix_tokens",
  "context_tokens", "timeout_ms", "debounce_ms", "cache_entries", "n_ctx", "n_threads", "n_gpu_layers",
  "api_base", "remote_model", "raw_prompt", "connect_timeout_ms", "request_timeout_ms",
  "allow_insecure_http", "exclude", "completion_item", "log_level",
];

describe("contributed settings", () => {
  it("cover every server key, each with a description and a default", () => {
    assert.deepEqual(PASSTHROUGH.map((s) => s.server).sort(), [...SERVER_KEYS].sort());
    for (const spec of PASSTHROUGH) {
      const p = props[`codestral.${spec.key}`];
      assert.ok(p, `codestral.${spec.key} is contributed`);
      assert.ok(p.markdownDescription && p.markdownDescription.length > 10, `${spec.key} has a description`);
      assert.ok("default" in p, `${spec.key} has a default`);
    }
  });

  it("contribute nothing else but the client's own keys", () => {
    const known = new Set([...PASSTHROUGH.map((s) => `codestral.${s.key}`), ...CLIENT_ONLY.map((k) => `codestral.${k}`)]);
    assert.deepEqual(Object.keys(props).filter((k) => !known.has(k)), []);
  });

  it("keep the client's own switches out of what the server is sent", () => {
    assert.equal(props["codestral.warmOnFocus"]?.default, true);
    assert.deepEqual(CLIENT_ONLY.filter((k) => PASSTHROUGH.some((s) => s.key === k)), []);
    assert.deepEqual(toServerSettings({ warmOnFocus: false, maxTokens: 8 }, undefined, undefined), { max_tokens: 8 });
  });

  it("never contribute an API key setting", () => {
    assert.deepEqual(Object.keys(props).filter((k) => /api.?key/i.test(k)), []);
  });

  it("offer the server's backends as an enum", () => {
    assert.deepEqual(props["codestral.backend"]?.enum, ["local", "mistral", "openai", "llama-server", "ollama", "chat"]);
  });
});

describe("toServerSettings", () => {
  it("sends only what the user set, in the server's snake_case", () => {
    const out = toServerSettings({ maxTokens: 24, apiBase: "http://127.0.0.1:8080", debounceMs: 0 }, undefined, undefined);
    assert.deepEqual(out, { max_tokens: 24, api_base: "http://127.0.0.1:8080", debounce_ms: 0 });
  });

  it("sends nothing when nothing is set, so the server's config file still counts", () => {
    assert.deepEqual(toServerSettings({}, undefined, undefined), {});
  });

  it("treats an emptied text box as not set", () => {
    assert.deepEqual(toServerSettings({ model: "  ", remoteModel: "" }, undefined, undefined), {});
  });

  it("turns the per-language enable map into enabled and disabled_languages", () => {
    const out = toServerSettings({}, { "*": true, markdown: false, plaintext: false, python: true }, undefined);
    assert.deepEqual(out, { enabled: true, disabled_languages: ["markdown", "plaintext"] });
    assert.deepEqual(toServerSettings({}, { "*": false }, undefined), { enabled: false });
  });

  it("adds the API key from secret storage only when there is one", () => {
    assert.equal(toServerSettings({}, undefined, "sk-secret").api_key, "sk-secret");
    assert.equal("api_key" in toServerSettings({}, undefined, ""), false);
  });

  it("keeps lists and booleans as they are", () => {
    const out = toServerSettings({ exclude: ["*.pem"], rawPrompt: true, allowInsecureHttp: false }, undefined, undefined);
    assert.deepEqual(out, { exclude: ["*.pem"], raw_prompt: true, allow_insecure_http: false });
  });
});

describe("withResets", () => {
  const defaults = serverDefaults(Object.fromEntries(Object.entries(props).map(([k, v]) => [k.replace(/^codestral\./, ""), v.default])));

  it("sends the default for a key the user removed (the server merges changes)", () => {
    const out = withResets({ backend: "ollama" }, { backend: "ollama", max_tokens: 24, api_key: "k" }, defaults);
    assert.deepEqual(out, { backend: "ollama", max_tokens: 96, api_key: "" });
  });

  it("is the identity the first time", () => {
    assert.deepEqual(withResets({ max_tokens: 8 }, undefined, defaults), { max_tokens: 8 });
  });

  it("re-enables every language when the enable map is removed", () => {
    const out = withResets({}, { enabled: false, disabled_languages: ["markdown"] }, defaults);
    assert.deepEqual(out, { enabled: true, disabled_languages: [] });
  });
});

describe("per-language enable", () => {
  it("lets a language entry win over the star", () => {
    const map = { "*": true, markdown: false };
    assert.equal(isLanguageEnabled(map, "python"), true);
    assert.equal(isLanguageEnabled(map, "markdown"), false);
    assert.equal(isLanguageEnabled({ "*": false, python: true }, "python"), true);
    assert.equal(isLanguageEnabled({ "*": false, python: true }, "go"), false);
  });

  it("defaults to on, and ignores junk values", () => {
    assert.equal(isLanguageEnabled(undefined, "go"), true);
    assert.equal(isLanguageEnabled({ go: "no" } as unknown as Record<string, boolean>, "go"), true);
  });

  it("updates one language and keeps the others", () => {
    assert.deepEqual(withLanguage({ "*": true, markdown: false }, "python", false), { "*": true, markdown: false, python: false });
    assert.deepEqual(withLanguage({ "*": true }, "*", false), { "*": false });
  });
});

describe("settingForMessage", () => {
  it("points a config error at the setting it names", () => {
    assert.equal(settingForMessage("codestral-ls: setting 'max_tokens' must be a positive number"), "codestral.maxTokens");
    assert.equal(settingForMessage("setting 'backend' is 'x'; expected one of: local"), "codestral.backend");
  });

  it("points authentication trouble at the API key command", () => {
    assert.equal(settingForMessage("codestral-ls: the API answered 401 Unauthorized: check the API key"), "apiKey");
  });

  it("points connection trouble at the API base", () => {
    assert.equal(settingForMessage("codestral-ls: cannot connect to http://127.0.0.1:9/: connection refused"), "codestral.apiBase");
  });

  it("points model file trouble at the model path", () => {
    assert.equal(settingForMessage("codestral-ls: model file /x.gguf not found"), "codestral.model");
  });

  it("points a missing local runtime at the backend choice", () => {
    assert.equal(
      settingForMessage("codestral-ls: llama-cpp-python is not installed: install codestral-ls with its local extra (see the README), or choose a remote backend"),
      "codestral.backend",
    );
  });

  it("has no button for something unrelated", () => {
    assert.equal(settingForMessage("codestral-ls: something odd happened"), undefined);
  });
});
