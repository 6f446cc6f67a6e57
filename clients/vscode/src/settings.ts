/**
 * VS Code settings -> codestral-ls settings. Pure (no `vscode` import) so it is unit-tested.
 *
 * Only values the user set explicitly are sent: the server has its own layers (defaults, TOML
 * file, environment) and a VS Code default must not silently override the user's config file.
 */

import table from "./serverSettings.json";

/** One contributed setting: the VS Code key under `codestral.` and the server's snake_case key. */
export interface SettingSpec {
  readonly key: string;
  readonly server: string;
}

/** Settings passed through unchanged (apart from the key's spelling). The table is JSON
 *  (src/serverSettings.json) so that the server's test suite can check it against config.py. */
export const PASSTHROUGH: readonly SettingSpec[] = Object.entries(table.passthrough).map(([key, server]) => ({ key, server }));

/** Server keys set from `codestral.enable` (`enabled`, `disabled_languages`). */
export const FROM_ENABLE: readonly string[] = table.fromEnable;

/** Server keys that come from VS Code's SecretStorage, never from a setting (`api_key`). */
export const FROM_SECRET_STORAGE: readonly string[] = table.fromSecretStorage;

/** Keys read by the extension itself, never sent to the server. */
export const CLIENT_ONLY: readonly string[] = table.clientOnly;

/** Where a contributed key may be set, as declared in package.json. */
export interface KeyRules {
  /** `"scope": "machine"` or `"application"`: only the user's (or the remote machine's) settings. */
  readonly userOnly: boolean;
  /** Listed in `capabilities.untrustedWorkspaces.restrictedConfigurations`. */
  readonly restricted: boolean;
  /** `"scope": "machine"` or `"machine-overridable"`: in a remote window (SSH, WSL, code-server)
   *  it is read from the remote machine's settings, not the local User settings. */
  readonly machine: boolean;
}

interface Manifest {
  contributes?: { configuration?: { properties?: Record<string, { scope?: string }> } };
  capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: string[] } };
}

/** The rules for every contributed key (full name, `codestral.apiBase`), from package.json. */
export function keyRules(manifest: unknown): ReadonlyMap<string, KeyRules> {
  const m = (manifest ?? {}) as Manifest;
  const props = m.contributes?.configuration?.properties ?? {};
  const restricted = new Set(m.capabilities?.untrustedWorkspaces?.restrictedConfigurations ?? []);
  const out = new Map<string, KeyRules>();
  for (const [key, p] of Object.entries(props)) {
    out.set(key, {
      userOnly: p.scope === "machine" || p.scope === "application",
      restricted: restricted.has(key),
      machine: p.scope === "machine" || p.scope === "machine-overridable",
    });
  }
  return out;
}

/** What `WorkspaceConfiguration.inspect` returns, as far as it matters here. */
export interface Inspected {
  readonly globalValue?: unknown;
  readonly workspaceValue?: unknown;
  readonly workspaceFolderValue?: unknown;
}

/**
 * The value the user set for a key, `undefined` when only the default applies. A workspace or
 * folder value counts only where the key may be set there: never for user-only keys, and for
 * restricted keys only in a trusted workspace. VS Code applies the same rules itself; this is the
 * second lock, so that a folder's `.vscode/settings.json` can never point the API key elsewhere.
 */
export function explicitValue(i: Inspected | undefined, rules: KeyRules | undefined, trusted: boolean): unknown {
  if (!i) {
    return undefined;
  }
  const workspaceAllowed = !(rules?.userOnly ?? false) && (trusted || !(rules?.restricted ?? false));
  if (workspaceAllowed) {
    if (i.workspaceFolderValue !== undefined) {
      return i.workspaceFolderValue;
    }
    if (i.workspaceValue !== undefined) {
      return i.workspaceValue;
    }
  }
  return i.globalValue;
}

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
