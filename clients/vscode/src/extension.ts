/**
 * Entry point: wires the language client, settings, secrets, status bar and commands together.
 * All completion logic lives in the `codestral-ls` server; this file only moves data.
 */
import * as path from "node:path";
import { spawn } from "node:child_process";
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  MessageType,
  RevealOutputChannelOn,
  State,
  type ShowMessageParams,
} from "vscode-languageclient/node";
import { CodestralLanguageClient, DOCTOR_METHOD, STATUS_METHOD, serverOptions, type ProgressValue } from "./client";
import { formatDoctor, parseDoctor } from "./doctor";
import { FOCUS_METHOD, FocusReporter, type Rest } from "./focus";
import { DEFAULT_INSTALL_SPEC, installServer } from "./installer";
import { OnceFilter } from "./once";
import { RedactingChannel } from "./output";
import { Redactor } from "./redact";
import { findServer, type Found } from "./serverPath";
import {
  PASSTHROUGH,
  explicitValue,
  isLanguageEnabled,
  keyRules,
  normaliseEnable,
  serverDefaults,
  settingForMessage,
  toServerSettings,
  withLanguage,
  withResets,
  type EnableMap,
  type KeyRules,
  type ServerSettings,
} from "./settings";
import { ReadyAfterLoading, computeStatus, parseServerStatus, type ClientPhase, type ServerStatus, type StatusView } from "./status";

const SECTION = "codestral";
const SECRET_KEY = "codestral.apiKey";
const SCHEMES = new Set(["file", "untitled"]);
/** The documents the language client syncs and asks completions for. */
const DOCUMENT_SELECTOR = [{ scheme: "file" }, { scheme: "untitled" }];

let current: Codestral | undefined;

/** Where each contributed key may be set (package.json: `scope`, `restrictedConfigurations`). */
let RULES: ReadonlyMap<string, KeyRules> = new Map();

/** Machine-scoped settings are not in the User settings of a remote window (SSH, WSL,
 *  code-server): open them where they can be set. */
function openSetting(key: string): Thenable<unknown> {
  if (vscode.env.remoteName && RULES.get(key)?.machine) {
    return vscode.commands.executeCommand("workbench.action.openRemoteSettings", { query: key });
  }
  return vscode.commands.executeCommand("workbench.action.openSettings", key);
}

export function activate(context: vscode.ExtensionContext): Codestral {
  RULES = keyRules(context.extension.packageJSON);
  const ext = new Codestral(context);
  current = ext;
  context.subscriptions.push(ext);
  void ext.start();
  return ext;
}

/** VS Code waits for this promise: the server gets its shutdown/exit instead of being killed. */
export function deactivate(): Promise<void> | undefined {
  const ext = current;
  current = undefined;
  return ext?.shutdown();
}

export class Codestral implements vscode.Disposable {
  private client: CodestralLanguageClient | undefined;
  private phase: ClientPhase = "starting";
  private clientMessage: string | undefined;
  private server: ServerStatus | undefined;
  private progress: number | undefined;
  private progressMessage: string | undefined;
  private inFlight = 0;
  private lastSent: ServerSettings | undefined;
  private apiKey: string | undefined;
  private stopping = false;
  private missingOffered = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly redactor = new Redactor();
  private readonly secretsSeen = new Set<string>();
  private readonly errors = new OnceFilter();
  private readonly readyEdge = new ReadyAfterLoading();
  private readonly focus = new FocusReporter({
    read: () => this.restingCursor(),
    send: (params) => {
      void this.client?.sendNotification(FOCUS_METHOD, params).catch((err: unknown) => this.log(`${FOCUS_METHOD} failed: ${String(err)}`));
    },
  });
  private readonly rawOutput: vscode.LogOutputChannel;
  private readonly output: RedactingChannel;
  private readonly trace: RedactingChannel;
  private readonly item: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  /** Last rendered status (exported for tests through the API returned by `activate`). */
  public lastView: StatusView | undefined;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.rawOutput = vscode.window.createOutputChannel("Codestral", { log: true });
    this.output = new RedactingChannel(this.rawOutput, this.redactor);
    this.trace = new RedactingChannel(vscode.window.createOutputChannel("Codestral (protocol trace)", { log: true }), this.redactor);
    this.applyTraceSetting();
    this.item = vscode.window.createStatusBarItem("codestral.status", vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Codestral";
    this.item.command = "codestral.statusMenu";
    this.disposables.push(this.rawOutput, this.trace, this.item);
    this.registerCommands();
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChanged(e)),
      vscode.window.onDidChangeActiveTextEditor(() => {
        this.render();
        this.focus.moved();
      }),
      vscode.window.onDidChangeTextEditorSelection(() => this.focus.moved()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) {
          this.focus.edited(e.document.uri.toString(), e.document.version, e.contentChanges.map((c) => ({ start: c.range.start, text: c.text })));
        }
      }),
      vscode.workspace.onDidCloseTextDocument((doc) => this.focus.closed(doc.uri.toString())),
      // Trusting the workspace lets its restricted settings (model, exclude, ...) count.
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.pushSettings()),
      this.focus,
      context.secrets.onDidChange((e) => {
        if (e.key === SECRET_KEY) {
          void this.reloadApiKey();
        }
      }),
    );
    this.render();
  }

  // ------------------------------------------------------------------ lifecycle

  /** Starts the server (serialised with restarts, so two never race). */
  start(): Promise<void> {
    this.busy = this.busy.then(() => this.doStart()).catch((err: unknown) => this.log(`start failed: ${String(err)}`));
    return this.busy;
  }

  restart(): Promise<void> {
    this.busy = this.busy
      .then(async () => {
        await this.doStop();
        this.missingOffered = false;
        await this.doStart();
      })
      .catch((err: unknown) => this.log(`restart failed: ${String(err)}`));
    return this.busy;
  }

  private locate(): Found {
    return findServer({
      configured: this.config().get<string>("server.path", ""),
      privateVenv: this.privateVenv(),
      env: process.env,
      platform: process.platform,
    });
  }

  private privateVenv(): string {
    return path.join(this.context.globalStorageUri.fsPath, "venv");
  }

  private async doStart(): Promise<void> {
    const found = this.locate();
    if (!found.ok) {
      this.phase = "missing";
      this.clientMessage = found.reason;
      this.log(`Server not found: ${found.reason} (PATH here: ${process.env.PATH ?? ""})`);
      this.render();
      this.offerInstall(found.reason, found.fromSetting);
      return;
    }
    this.apiKey = await this.context.secrets.get(SECRET_KEY);
    this.rememberSecret(this.apiKey);
    this.log(`Starting ${found.command} (found via ${found.source})`);
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const client = new CodestralLanguageClient(
      serverOptions(found.command, cwd),
      {
        documentSelector: DOCUMENT_SELECTOR,
        outputChannel: this.output,
        traceOutputChannel: this.trace,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        // A function: an automatic restart after a crash gets the settings of that moment.
        initializationOptions: () => {
          const settings = this.serverSettings();
          this.lastSent = settings;
          return { codestral: settings };
        },
        connectionOptions: { maxRestartCount: 3 },
        middleware: {
          provideInlineCompletionItems: async (document, position, context, token, next) => {
            if (!this.enabledFor(document.languageId)) {
              return null;
            }
            this.inFlight += 1;
            this.render();
            try {
              return await next(document, position, context, token);
            } finally {
              this.inFlight -= 1;
              this.render();
              if (this.inFlight === 0) {
                this.focus.moved(); // a rest held back while the request ran
              }
            }
          },
          provideCompletionItem: (document, position, context, token, next) =>
            this.enabledFor(document.languageId) ? next(document, position, context, token) : null,
        },
      },
      {
        onShowMessage: (params) => this.onShowMessage(params),
        onProgress: (_token, value) => this.onProgress(value),
      },
    );
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.phase = "running";
        this.clientMessage = undefined;
      } else if (e.newState === State.Starting) {
        this.phase = "starting";
        this.server = undefined;
        this.focus.reset(); // a new process: it has seen no rests yet
        this.readyEdge.reset();
      } else {
        this.phase = this.stopping ? "stopped" : "failed";
        this.clientMessage = this.stopping ? undefined : "the server stopped; see Show Logs";
        this.server = undefined;
        this.inFlight = 0;
      }
      this.render();
    });
    client.onNotification(STATUS_METHOD, (raw: unknown) => this.onServerStatus(raw));
    this.client = client;
    this.phase = "starting";
    this.server = undefined;
    this.progress = undefined;
    this.render();
    try {
      await client.start();
    } catch (err) {
      this.phase = "failed";
      this.clientMessage = err instanceof Error ? err.message : String(err);
      this.render();
      return;
    }
    try {
      this.onServerStatus(await client.sendRequest(STATUS_METHOD, {}));
    } catch (err) {
      this.log(`codestral/status request failed: ${String(err)}`);
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) {
      return;
    }
    this.stopping = true;
    try {
      if (client.needsStop()) {
        await client.stop(5000);
      }
    } catch (err) {
      this.log(`stopping the server: ${String(err)}`);
    } finally {
      await client.dispose().catch(() => undefined);
      this.stopping = false;
      this.phase = "stopped";
      this.server = undefined;
      this.render();
    }
  }

  shutdown(): Promise<void> {
    return this.doStop();
  }

  dispose(): void {
    void this.doStop();
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  // ------------------------------------------------------------------ server -> client

  private onServerStatus(raw: unknown): void {
    const status = parseServerStatus(raw);
    if (!status) {
      return;
    }
    this.server = status;
    if (status.state !== "loading") {
      this.progress = undefined;
      this.progressMessage = undefined;
    }
    this.render();
    if (this.readyEdge.update(status.state)) {
      this.retrigger();
    }
  }

  /** The model just finished loading: whatever the user typed meanwhile got an empty answer, so
   *  ask again where the cursor is now (no extra keystroke needed). */
  private retrigger(): void {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && this.handles(doc)) {
      void vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    }
  }

  private onProgress(value: ProgressValue): void {
    if (value.kind === "end") {
      this.progress = undefined;
      this.progressMessage = undefined;
    } else {
      if (typeof value.percentage === "number") {
        this.progress = value.percentage;
      }
      if (value.message) {
        this.progressMessage = value.message;
      }
    }
    this.render();
  }

  private onShowMessage(params: ShowMessageParams): void {
    const text = this.redactor.redact(String(params.message ?? ""));
    this.log(`[server message] ${text}`);
    if (!this.errors.first(`${params.type}:${text}`)) {
      return;
    }
    const target = settingForMessage(text);
    const buttons: string[] = [];
    if (target === "apiKey") {
      buttons.push("Set API Key");
    } else if (target) {
      buttons.push("Open Setting");
    }
    buttons.push("Show Logs");
    const show =
      params.type === MessageType.Error
        ? vscode.window.showErrorMessage
        : params.type === MessageType.Warning
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void show(text, ...buttons).then((choice) => {
      if (choice === "Set API Key") {
        void vscode.commands.executeCommand("codestral.setApiKey");
      } else if (choice === "Open Setting" && target) {
        void openSetting(target);
      } else if (choice === "Show Logs") {
        this.output.show(true);
      }
    });
  }

  // ------------------------------------------------------------------ settings

  private config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  private enableMap(): EnableMap {
    return normaliseEnable(this.config().get("enable"));
  }

  private enabledFor(languageId: string): boolean {
    return isLanguageEnabled(this.enableMap(), languageId);
  }

  /** A document the language client syncs, in a language that is switched on. */
  private handles(doc: vscode.TextDocument): boolean {
    return vscode.languages.match(DOCUMENT_SELECTOR, doc) > 0 && this.enabledFor(doc.languageId);
  }

  /** For `codestral/didFocus`: the active editor's single, empty selection in a handled document,
   *  while the server is up and has its model (a loading server would drop it; the first ready
   *  re-triggers suggestions instead) and no inline request is running (it says where the user
   *  is; once it ends, the rest is looked at again). */
  private restingCursor(): Rest | undefined {
    const editor = vscode.window.activeTextEditor;
    const state = this.server?.state;
    if (
      !editor ||
      !this.client?.isRunning() ||
      (state !== "ready" && state !== "working") ||
      this.inFlight > 0 ||
      !this.config().get<boolean>("warmOnFocus", true) ||
      editor.selections.length !== 1 ||
      !editor.selection.isEmpty ||
      !this.handles(editor.document)
    ) {
      return undefined;
    }
    const { line, character } = editor.selection.active;
    return { uri: editor.document.uri.toString(), version: editor.document.version, position: { line, character } };
  }

  /** What the server gets: values the user set explicitly, plus the API key from SecretStorage. */
  private serverSettings(): ServerSettings {
    const cfg = this.config();
    const explicit: Record<string, unknown> = {};
    const trusted = vscode.workspace.isTrusted;
    for (const spec of PASSTHROUGH) {
      const value = explicitValue(cfg.inspect(spec.key), RULES.get(`${SECTION}.${spec.key}`), trusted);
      if (value !== undefined) {
        explicit[spec.key] = value;
      }
    }
    const e = cfg.inspect("enable");
    const enableSet = e && (e.globalValue !== undefined || e.workspaceValue !== undefined || e.workspaceFolderValue !== undefined);
    return toServerSettings(explicit, enableSet ? this.enableMap() : undefined, this.apiKey);
  }

  private defaults(): ServerSettings {
    const cfg = this.config();
    const d: Record<string, unknown> = {};
    for (const spec of PASSTHROUGH) {
      d[spec.key] = cfg.inspect(spec.key)?.defaultValue;
    }
    return serverDefaults(d);
  }

  private pushSettings(): void {
    const current = this.serverSettings();
    const message = withResets(current, this.lastSent, this.defaults());
    this.lastSent = current;
    const client = this.client;
    if (client && client.isRunning()) {
      void client
        .sendNotification(DidChangeConfigurationNotification.type, { settings: { codestral: message } })
        .catch((err: unknown) => this.log(`didChangeConfiguration failed: ${String(err)}`));
    }
  }

  private onConfigChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) {
      return;
    }
    this.errors.reset();
    if (e.affectsConfiguration(`${SECTION}.trace.server`)) {
      this.applyTraceSetting();
    }
    if (e.affectsConfiguration(`${SECTION}.server.path`)) {
      void this.restart();
      return;
    }
    this.pushSettings();
    this.render();
  }

  /** Every key seen this session stays masked, also after it was replaced or cleared. */
  private rememberSecret(key: string | undefined): void {
    if (key) {
      this.secretsSeen.add(key);
      this.redactor.setSecrets([...this.secretsSeen]);
    }
  }

  private applyTraceSetting(): void {
    this.trace.setForcedTrace(this.config().get<string>("trace.server", "off") !== "off");
  }

  /** Re-reads the key; tells the server only when it changed (the store and its change event
   *  both lead here, and a new key makes the server rebuild its backend). */
  private async reloadApiKey(): Promise<void> {
    const key = await this.context.secrets.get(SECRET_KEY);
    this.rememberSecret(key);
    if (key === this.apiKey) {
      return;
    }
    this.apiKey = key;
    this.pushSettings();
  }

  private async setEnabled(languageId: string, on: boolean): Promise<void> {
    const cfg = this.config();
    const i = cfg.inspect<EnableMap>("enable");
    const target =
      i?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : i?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    const base =
      target === vscode.ConfigurationTarget.WorkspaceFolder
        ? i?.workspaceFolderValue
        : target === vscode.ConfigurationTarget.Workspace
          ? i?.workspaceValue
          : i?.globalValue;
    await cfg.update("enable", withLanguage(base ?? i?.defaultValue, languageId, on), target);
  }

  // ------------------------------------------------------------------ UI

  private activeLanguage(): string | undefined {
    const doc = vscode.window.activeTextEditor?.document;
    return doc && SCHEMES.has(doc.uri.scheme) ? doc.languageId : undefined;
  }

  private render(): void {
    const lang = this.activeLanguage();
    const view = computeStatus({
      client: this.phase,
      clientMessage: this.clientMessage,
      server: this.server,
      progress: this.progress,
      progressMessage: this.progressMessage,
      globallyEnabled: isLanguageEnabled(this.enableMap(), "*"),
      languageId: lang,
      languageEnabled: lang === undefined ? true : this.enabledFor(lang),
      inFlight: this.inFlight,
    });
    this.lastView = view;
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.label };
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    this.item.show();
  }

  private log(line: string): void {
    this.output.info(line);
  }

  private offerInstall(reason: string, fromSetting: boolean): void {
    if (this.missingOffered) {
      return;
    }
    this.missingOffered = true;
    const text = `Codestral: the codestral-ls server was not found (${reason}).`;
    const actions = fromSetting ? ["Open Setting", "Install"] : ["Install", "Open Setting"];
    void vscode.window.showWarningMessage(text, ...actions).then((choice) => {
      if (choice === "Install") {
        void vscode.commands.executeCommand("codestral.installServer");
      } else if (choice === "Open Setting") {
        void openSetting("codestral.server.path");
      }
    });
  }

  private async install(): Promise<void> {
    const spec = this.config().get<string>("server.installSpec", DEFAULT_INSTALL_SPEC) || DEFAULT_INSTALL_SPEC;
    const ok = await installServer(this.privateVenv(), spec, this.output);
    if (ok) {
      void vscode.window.showInformationMessage("Codestral: codestral-ls is installed; starting it.");
      await this.restart();
    }
  }

  private async statusMenu(): Promise<void> {
    const lang = this.activeLanguage();
    const globalOn = isLanguageEnabled(this.enableMap(), "*");
    type Pick = vscode.QuickPickItem & { run: () => unknown };
    const picks: Pick[] = [
      globalOn
        ? { label: "$(circle-slash) Disable Codestral", description: "everywhere", run: () => this.setEnabled("*", false) }
        : { label: "$(check) Enable Codestral", description: "everywhere", run: () => this.setEnabled("*", true) },
    ];
    if (lang !== undefined) {
      const langOn = this.enabledFor(lang);
      picks.push(
        langOn
          ? { label: `$(circle-slash) Disable for ${lang}`, run: () => this.setEnabled(lang, false) }
          : { label: `$(check) Enable for ${lang}`, run: () => this.setEnabled(lang, true) },
      );
    }
    picks.push(
      { label: "$(gear) Open Settings", run: () => vscode.commands.executeCommand("workbench.action.openSettings", "@ext:codestral-ls.codestral") },
      { label: "$(output) Show Logs", run: () => this.output.show() },
      { label: "$(debug-restart) Restart Server", run: () => this.restart() },
      { label: "$(pulse) Run Doctor", run: () => this.doctor() },
      { label: "$(key) Set API Key", description: "for remote backends", run: () => this.setApiKey() },
    );
    const choice = await vscode.window.showQuickPick(picks, { title: this.lastView?.label ?? "Codestral", placeHolder: "Codestral" });
    if (choice) {
      await choice.run();
    }
  }

  private async setApiKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: "Codestral: API key",
      prompt: "Stored in VS Code's secret storage and passed to codestral-ls; never written to settings or logs.",
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) {
      return;
    }
    const trimmed = key.trim();
    if (!trimmed) {
      void vscode.window.showWarningMessage("Codestral: empty key ignored. Use “Codestral: Clear API Key” to remove it.");
      return;
    }
    await this.context.secrets.store(SECRET_KEY, trimmed);
    await this.reloadApiKey();
    void vscode.window.showInformationMessage("Codestral: API key saved.");
  }

  private async clearApiKey(): Promise<void> {
    await this.context.secrets.delete(SECRET_KEY);
    await this.reloadApiKey();
    void vscode.window.showInformationMessage("Codestral: API key removed.");
  }

  private async doctor(): Promise<void> {
    this.output.show(true);
    const client = this.client;
    if (client && client.isRunning()) {
      try {
        const report = parseDoctor(await client.sendRequest(DOCTOR_METHOD, {}));
        if (report) {
          const { text, failed } = formatDoctor(report);
          this.output.appendLine(text);
          void (failed === 0
            ? vscode.window.showInformationMessage("Codestral doctor: all checks passed.")
            : vscode.window.showWarningMessage(`Codestral doctor: ${failed} check(s) failed; see the output.`));
          return;
        }
      } catch (err) {
        this.log(`codestral/doctor failed: ${String(err)}`);
      }
    }
    const found = this.locate();
    if (!found.ok) {
      this.output.appendLine(`doctor: ${found.reason}`);
      void vscode.window.showWarningMessage(`Codestral doctor: ${found.reason}`);
      return;
    }
    this.output.appendLine(`$ ${found.command} doctor`);
    await new Promise<void>((resolve) => {
      const child = spawn(found.command, ["doctor"], { env: process.env });
      const pump = (b: Buffer): void => this.output.append(b.toString("utf8"));
      child.stdout.on("data", pump);
      child.stderr.on("data", pump);
      child.on("error", (err) => {
        this.output.appendLine(`doctor could not run: ${err.message}`);
        resolve();
      });
      child.on("close", (code) => {
        this.output.appendLine(`(doctor exited with ${code})`);
        resolve();
      });
    });
  }

  private registerCommands(): void {
    const reg = (id: string, fn: () => unknown): void => {
      this.disposables.push(vscode.commands.registerCommand(id, fn));
    };
    reg("codestral.enable", () => this.setEnabled("*", true));
    reg("codestral.disable", () => this.setEnabled("*", false));
    reg("codestral.toggle", () => this.setEnabled("*", !isLanguageEnabled(this.enableMap(), "*")));
    reg("codestral.toggleLanguage", () => {
      const lang = this.activeLanguage();
      return lang === undefined ? undefined : this.setEnabled(lang, !this.enabledFor(lang));
    });
    reg("codestral.trigger", () => vscode.commands.executeCommand("editor.action.inlineSuggest.trigger"));
    reg("codestral.restart", () => this.restart());
    reg("codestral.showLogs", () => this.output.show());
    reg("codestral.doctor", () => this.doctor());
    reg("codestral.setApiKey", () => this.setApiKey());
    reg("codestral.clearApiKey", () => this.clearApiKey());
    reg("codestral.installServer", () => this.install());
    reg("codestral.statusMenu", () => this.statusMenu());
  }
}
