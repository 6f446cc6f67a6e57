/**
 * VS Code settings -> codestral-ls settings. Pure (no `vscode` import) so it is unit-tested.
 *
 * Only values the user set explicitly are sent: the server has its own layers (defaults, TOML
 * file, environment) and a VS Code default must not silently override the user's config file.
 */

/** One contributed setting: the VS Code key under `codestral.` and the server's snake_case key. */
export interface SettingSpec {
  readonly key: string;
  readonly server: string;
}

/** Settings passed through unchanged (apart from the key's spelling). */
export const PASSTHROUGH: readonly SettingSpec[] = [
  { key: "backend", server: "backend" },
  { key: "model", server: "model" },
  { key: "template", server: "template" },
  { key: "maxTokens", server: "max_tokens" },
  { key: "temperature", server: "temperature" },
  { key: "prefixTokens", server: "prefix_tokens" },
  { key: "suffixTokens", server: "suffix_tokens" },
  { key: "contextTokens", server: "context_tokens" },
  { key: "timeoutMs", server: "timeout_ms" },
  { key: "debounceMs", server: "debounce_ms" },
  { key: "cacheEntries", server: "cache_entries" },
  { key: "nCtx", server: "n_ctx" },
  { key: "nThreads", server: "n_threads" },
  { key: "nGpuLayers", server: "n_gpu_layers" },
  { key: "apiBase", server: "api_base" },
  { key: "remoteModel", server: "remote_model" },
  { key: "rawPrompt", server: "raw_prompt" },
  { key: "connectTimeoutMs", server: "connect_timeout_ms" },
  { key: "requestTimeoutMs", server: "request_timeout_ms" },
  { key: "allowInsecureHttp", server: "allow_insecure_http" },
  { key: "exclude", server: "exclude" },
  { key: "completionItem", server: "completion_item" },
  { key: "logLevel", server: "log_level" },
];

/** Keys read by the extension itself, never sent to the server. */
export const CLIENT_ONLY = ["enable", "server.path", "server.installSpec", "trace.server", "warmOnFocus"] as const;

/** `codestral.enable`: `{ "*": true, "markdown": false }`. */
export type EnableMap = Readonly<Record<string, boolean>>;

/** Explicitly set values by VS Code key (`undefined` or absent = not set by the user). */
export type ExplicitValues = Readonly<Record<string, unknown>>;

export type ServerSettings = Record<string, unknown>;

/** Is completion on for `languageId`? A language entry wins over `"*"`; default on. */
export function isLanguageEnabled(enable: EnableMap | undefined, languageId: string): boolean {
  const map = normaliseEnable(enable);
  const own = map[languageId];
  if (typeof own === "boolean") {
    return own;
  }
  const star = map["*"];
  return typeof star === "boolean" ? star : true;
}

/** Accepts the object form and, for convenience, a plain boolean. */
export function normaliseEnable(enable: unknown): EnableMap {
  if (typeof enable === "boolean") {
    return { "*": enable };
  }
  if (enable === null || typeof enable !== "object" || Array.isArray(enable)) {
    return {};
  }
  const out: Record<string, boolean> = {};
  for (const [lang, on] of Object.entries(enable as Record<string, unknown>)) {
    if (typeof on === "boolean") {
      out[lang] = on;
    }
  }
  return out;
}

/** Returns a new enable map with `languageId` (or `"*"`) set. Turning `"*"` on keeps the
 *  per-language exceptions; the quick pick decides which key to change. */
export function withLanguage(enable: EnableMap | undefined, languageId: string, on: boolean): EnableMap {
  return { ...normaliseEnable(enable), [languageId]: on };
}

/**
 * The object sent as `initializationOptions` and in `workspace/didChangeConfiguration`
 * (wrapped in `{ codestral: ... }` by the caller). `apiKey` comes from SecretStorage.
 */
export function toServerSettings(
  explicit: ExplicitValues,
  enable: EnableMap | undefined,
  apiKey: string | undefined,
): ServerSettings {
  const out: ServerSettings = {};
  const map = normaliseEnable(enable);
  if (map["*"] !== undefined) {
    out.enabled = map["*"];
  }
  const disabled = Object.entries(map)
    .filter(([lang, on]) => lang !== "*" && !on)
    .map(([lang]) => lang)
    .sort();
  if (disabled.length > 0 || Object.keys(map).some((k) => k !== "*")) {
    out.disabled_languages = disabled;
  }
  for (const spec of PASSTHROUGH) {
    const value = explicit[spec.key];
    if (value === undefined || value === null) {
      continue;
    }
    if (typeof value === "string" && value.trim() === "" && spec.key !== "template") {
      continue; // an emptied text box means "not set", not "the empty string"
    }
    out[spec.server] = value;
  }
  if (apiKey) {
    out.api_key = apiKey;
  }
  return out;
}

/**
 * The server merges `didChangeConfiguration` onto its current settings, so a key the user removes
 * would keep its old value. Keys sent before and missing now are sent with the contributed default.
 */
export function withResets(
  current: ServerSettings,
  previous: ServerSettings | undefined,
  defaults: Readonly<Record<string, unknown>>,
): ServerSettings {
  const out: ServerSettings = { ...current };
  if (!previous) {
    return out;
  }
  for (const key of Object.keys(previous)) {
    if (key in out) {
      continue;
    }
    if (key in defaults) {
      out[key] = defaults[key];
    }
  }
  return out;
}

/** Server-side defaults as contributed in package.json, by server key, for `withResets`. */
export function serverDefaults(vscodeDefaults: ExplicitValues): ServerSettings {
  const out: ServerSettings = { enabled: true, disabled_languages: [], api_key: "" };
  for (const spec of PASSTHROUGH) {
    const value = vscodeDefaults[spec.key];
    if (value !== undefined) {
      out[spec.server] = value;
    }
  }
  return out;
}

/** A setting a server error message is about, so the notification can open it. */
export function settingForMessage(message: string): string | undefined {
  const lower = message.toLowerCase();
  const named = /setting '([a-z_]+)'/.exec(lower);
  if (named) {
    const spec = PASSTHROUGH.find((s) => s.server === named[1]);
    if (spec) {
      return `codestral.${spec.key}`;
    }
    if (named[1] === "enabled" || named[1] === "disabled_languages") {
      return "codestral.enable";
    }
    if (named[1] === "api_key") {
      return "apiKey";
    }
  }
  if (/api[ _-]?key|unauthori[sz]ed|\b401\b|\b403\b/.test(lower)) {
    return "apiKey";
  }
  if (/api[ _]base|base url|connect|unreachable|refused/.test(lower)) {
    return "codestral.apiBase";
  }
  if (/llama-cpp-python|not installed|choose a remote backend/.test(lower)) {
    return "codestral.backend"; // the local backend cannot run here: pick another one
  }
  if (/remote[ _]model|model name/.test(lower)) {
    return "codestral.remoteModel";
  }
  if (/gguf|model file|model path|llama|\bmodel\b/.test(lower)) {
    return "codestral.model";
  }
  if (/backend/.test(lower)) {
    return "codestral.backend";
  }
  return undefined;
}
