/**
 * What the status bar item says, from everything the extension knows. Pure (no `vscode` import)
 * so every state can be unit-tested; `statusBar.ts` only copies the result into the item.
 */

export type ServerState = "loading" | "ready" | "working" | "error" | "disabled";

/** The payload of the server's `codestral/status` notification and request. */
export interface ServerStatus {
  readonly state: ServerState;
  readonly backend: string;
  readonly model: string;
  readonly message: string;
  readonly progress: number | null;
  readonly lastLatencyMs: number | null;
}

/** The language client's side: the process may not run at all. */
export type ClientPhase = "starting" | "running" | "stopped" | "failed" | "missing";

export interface StatusInputs {
  readonly client: ClientPhase;
  readonly clientMessage?: string;
  readonly server?: ServerStatus;
  /** Percentage from the server's `$/progress`, while the model is prepared. */
  readonly progress?: number;
  readonly progressMessage?: string;
  readonly globallyEnabled: boolean;
  /** Language of the active editor, if any. */
  readonly languageId?: string;
  readonly languageEnabled: boolean;
  /** Inline completion requests this client is waiting for. */
  readonly inFlight: number;
}

export type Shown = "starting" | "loading" | "ready" | "working" | "disabled" | "language-disabled" | "error" | "missing" | "stopped";

export interface StatusView {
  readonly shown: Shown;
  /** Status bar text (may contain `$(icon)` codicons). */
  readonly text: string;
  /** Plain words for screen readers (and the e2e test). */
  readonly label: string;
  readonly tooltip: string;
  readonly severity: "normal" | "warning" | "error";
}

const NAME = "Codestral";

export function computeStatus(s: StatusInputs): StatusView {
  const details = tooltipDetails(s);
  const view = (shown: Shown, icon: string, suffix: string, severity: StatusView["severity"], headline: string): StatusView => ({
    shown,
    text: `$(${icon}) ${NAME}${suffix ? " " + suffix : ""}`,
    label: `${NAME}: ${headline}`,
    tooltip: [`codestral-ls: ${headline}`, ...details, "", "Click for options"].join("\n"),
    severity,
  });

  if (s.client === "missing") {
    return view("missing", "warning", "", "warning", "server not found");
  }
  if (s.client === "failed") {
    return view("error", "error", "", "error", `error: ${s.clientMessage ?? "the server stopped"}`);
  }
  if (s.client === "stopped") {
    return view("stopped", "debug-stop", "", "warning", "server stopped");
  }
  if (!s.globallyEnabled) {
    return view("disabled", "circle-slash", "off", "normal", "disabled");
  }
  if (s.languageId !== undefined && !s.languageEnabled) {
    return view("language-disabled", "circle-slash", `(${s.languageId} off)`, "normal", `disabled for ${s.languageId}`);
  }
  if (s.client === "starting" && !s.server) {
    return view("starting", "loading~spin", "", "normal", "starting");
  }
  const server = s.server;
  if (server?.state === "error") {
    return view("error", "error", "", "error", `error: ${server.message || "unknown"}`);
  }
  const pct = progressOf(s);
  if (server?.state === "loading" || (!server && pct !== undefined)) {
    const suffix = pct !== undefined ? `${pct}%` : "";
    const what = s.progressMessage || server?.message || "preparing the model";
    return view("loading", "loading~spin", suffix, "normal", `loading${pct !== undefined ? ` ${pct}%` : ""} (${what})`);
  }
  if (server?.state === "disabled") {
    return view("disabled", "circle-slash", "off", "normal", "disabled");
  }
  if (s.inFlight > 0 || server?.state === "working") {
    return view("working", "sync~spin", "", "normal", "working");
  }
  if (!server) {
    return view("starting", "loading~spin", "", "normal", "starting");
  }
  return view("ready", "check", "", "normal", "ready");
}

function progressOf(s: StatusInputs): number | undefined {
  const raw = s.progress ?? s.server?.progress ?? undefined;
  if (raw === undefined || raw === null || !Number.isFinite(raw)) {
    return undefined;
  }
  return Math.max(0, Math.min(100, Math.round(raw)));
}

function tooltipDetails(s: StatusInputs): string[] {
  const out: string[] = [];
  const server = s.server;
  out.push(`Backend: ${server?.backend || "—"}`);
  out.push(`Model: ${server?.model || "—"}`);
  const latency = server?.lastLatencyMs;
  out.push(`Last latency: ${latency === null || latency === undefined ? "—" : `${latency} ms`}`);
  if (s.languageId !== undefined) {
    out.push(`Language: ${s.languageId} (${s.languageEnabled ? "on" : "off"})`);
  }
  return out;
}

/** Validates a `codestral/status` payload from the wire; `undefined` when it is not one. */
export function parseServerStatus(raw: unknown): ServerStatus | undefined {
  if (raw === null || typeof raw !== "object") {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const states: readonly string[] = ["loading", "ready", "working", "error", "disabled"];
  if (typeof r.state !== "string" || !states.includes(r.state)) {
    return undefined;
  }
  const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    state: r.state as ServerState,
    backend: typeof r.backend === "string" ? r.backend : "",
    model: typeof r.model === "string" ? r.model : "",
    message: typeof r.message === "string" ? r.message : "",
    progress: num(r.progress),
    lastLatencyMs: num(r.lastLatencyMs),
  };
}

/**
 * "The model just became usable": true for the first `ready` after a `loading`. Requests made
 * while the model loaded were answered empty, so the extension then asks again for the cursor
 * the user is at (a keystroke typed during loading gets its suggestion without another key).
 */
export class ReadyAfterLoading {
  private loading = false;

  /** Feed every state the server reports; true when this one should re-trigger suggestions. */
  update(state: ServerState): boolean {
    if (state === "loading") {
      this.loading = true;
      return false;
    }
    if (state === "ready" && this.loading) {
      this.loading = false;
      return true;
    }
    return false;
  }

  /** A new server process: what the old one was doing no longer matters. */
  reset(): void {
    this.loading = false;
  }
}
