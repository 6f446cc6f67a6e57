import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  CLIENT_ONLY,
  FROM_ENABLE,
  FROM_SECRET_STORAGE,
  PASSTHROUGH,
  explicitValue,
  isLanguageEnabled,
  keyRules,
  serverDefaults,
  settingForMessage,
  toServerSettings,
  withLanguage,
  withResets,
} from "../src/settings";

interface Prop {
  default: unknown;
  markdownDescription?: string;
  enum?: unknown[];
  scope?: string;
}
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  contributes: { configuration: { properties: Record<string, Prop> } };
  capabilities?: { untrustedWorkspaces?: { supported?: unknown; restrictedConfigurations?: string[] } };
};
const props = pkg.contributes.configuration.properties;
const rules = keyRules(pkg);

// Which server keys exist, with which types, defaults and bounds, is checked against
// codestral_ls/config.py by tests/test_settings_sync.py (it reads src/serverSettings.json).
describe("contributed settings", () => {
  it("name each server key once: a setting, the enable map or the secret storage", () => {
    const all = [...PASSTHROUGH.map((s) => s.server), ...FROM_ENABLE, ...FROM_SECRET_STORAGE];
    assert.equal(new Set(all).size, all.length, `a server key is mapped twice: ${all.join(", ")}`);
    assert.deepEqual([...FROM_SECRET_STORAGE], ["api_key"]);
    assert.deepEqual([...FROM_ENABLE].sort(), ["disabled_languages", "enabled"]);
    for (const spec of PASSTHROUGH) {
      assert.match(spec.server, /^[a-z][a-z0-9_]*$/);
      assert.equal(spec.key, spec.server.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()), `${spec.key} is the camelCase of ${spec.server}`);
    }
  });

  it("cover every mapped server key, each with a description and a default", () => {
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
    assert.deepEqual(CLIENT_ONLY.filter((k) => !(`codestral.${k}` in props)), []);
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

describe("where settings may be set", () => {
  it("keeps the API's host and the backend out of a folder's settings", () => {
    for (const key of ["codestral.apiBase", "codestral.backend"]) {
      assert.ok(["machine", "application"].includes(props[key]?.scope ?? ""), `${key} is machine- or application-scoped`);
      assert.equal(rules.get(key)?.userOnly, true);
    }
  });

  it("declares limited support for untrusted workspaces and what it restricts", () => {
    const u = pkg.capabilities?.untrustedWorkspaces;
    assert.equal(u?.supported, "limited");
    for (const key of ["codestral.server.path", "codestral.model", "codestral.apiBase", "codestral.backend"]) {
      assert.ok(u?.restrictedConfigurations?.includes(key), `${key} is restricted`);
    }
    assert.deepEqual((u?.restrictedConfigurations ?? []).filter((k) => !(k in props)), [], "restricts only contributed keys");
    assert.equal(rules.get("codestral.model")?.restricted, true);
    assert.equal(rules.get("codestral.maxTokens")?.restricted, false);
  });

  it("opens machine settings in the remote machine's settings", () => {
    assert.equal(rules.get("codestral.server.path")?.machine, true);
    assert.equal(rules.get("codestral.apiBase")?.machine, true);
    assert.equal(rules.get("codestral.maxTokens")?.machine, false);
  });

  const everywhere = { globalValue: "user", workspaceValue: "workspace", workspaceFolderValue: "folder" };

  it("takes the most specific value of an ordinary key", () => {
    assert.equal(explicitValue(everywhere, rules.get("codestral.remoteModel"), true), "folder");
    assert.equal(explicitValue({ globalValue: "user", workspaceValue: "workspace" }, rules.get("codestral.remoteModel"), false), "workspace");
    assert.equal(explicitValue({}, rules.get("codestral.remoteModel"), true), undefined);
    assert.equal(explicitValue(undefined, undefined, true), undefined);
  });

  it("never takes a folder's API base or backend, trusted or not", () => {
    for (const key of ["codestral.apiBase", "codestral.backend"]) {
      assert.equal(explicitValue(everywhere, rules.get(key), true), "user");
      assert.equal(explicitValue({ workspaceValue: "https://evil.example" }, rules.get(key), true), undefined);
    }
  });

  it("takes a folder's model or server path only in a trusted workspace", () => {
    for (const key of ["codestral.model", "codestral.server.path", "codestral.exclude"]) {
      assert.equal(explicitValue(everywhere, rules.get(key), true), "folder");
      assert.equal(explicitValue(everywhere, rules.get(key), false), "user");
    }
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

  it("passes the newer server settings through", () => {
    const out = toServerSettings({ evalBudgetMs: 900, layout: "prefix_only", windowGrid: 1, typeThrough: false, speculate: false, tokenHealing: false, cacheEntries: 0 }, undefined, undefined);
    assert.deepEqual(out, { eval_budget_ms: 900, layout: "prefix_only", window_grid: 1, type_through: false, speculate: false, token_healing: false, cache_entries: 0 });
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
