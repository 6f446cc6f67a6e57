/** A log output channel that masks secrets in everything written to it. */
import { inspect } from "node:util";
import * as vscode from "vscode";
import type { Redactor } from "./redact";

export class RedactingChannel implements vscode.LogOutputChannel {
  private forced = false;
  private readonly levelChanged = new vscode.EventEmitter<vscode.LogLevel>();

  constructor(private readonly inner: vscode.LogOutputChannel, private readonly redactor: Redactor) {
    inner.onDidChangeLogLevel((level) => this.levelChanged.fire(this.forced ? vscode.LogLevel.Trace : level));
  }

  /**
   * `vscode-languageclient` traces the protocol only when its trace channel's log level is Trace.
   * `codestral.trace.server` turns that on without changing VS Code's log level: trace lines are
   * then written at info level, so the channel shows them.
   */
  setForcedTrace(on: boolean): void {
    if (on !== this.forced) {
      this.forced = on;
      this.levelChanged.fire(this.logLevel);
    }
  }

  get name(): string {
    return this.inner.name;
  }

  get logLevel(): vscode.LogLevel {
    return this.forced ? vscode.LogLevel.Trace : this.inner.logLevel;
  }

  get onDidChangeLogLevel(): vscode.Event<vscode.LogLevel> {
    return this.levelChanged.event;
  }

  /** Formats the message and its arguments into one string, then masks it. */
  private line(message: string | Error, args: unknown[]): string {
    const parts = [message instanceof Error ? (message.stack ?? message.message) : message];
    for (const a of args) {
      parts.push(typeof a === "string" ? a : inspect(a, { depth: 6, breakLength: 120 }));
    }
    return this.redactor.redact(parts.join(" "));
  }

  trace(message: string, ...args: unknown[]): void {
    if (this.forced) {
      this.inner.info(this.line(message, args));
    } else {
      this.inner.trace(this.line(message, args));
    }
  }

  debug(message: string, ...args: unknown[]): void {
    this.inner.debug(this.line(message, args));
  }

  info(message: string, ...args: unknown[]): void {
    this.inner.info(this.line(message, args));
  }

  warn(message: string, ...args: unknown[]): void {
    this.inner.warn(this.line(message, args));
  }

  error(error: string | Error, ...args: unknown[]): void {
    this.inner.error(this.line(error, args));
  }

  append(value: string): void {
    this.inner.append(this.redactor.redact(value));
  }

  appendLine(value: string): void {
    this.inner.appendLine(this.redactor.redact(value));
  }

  replace(value: string): void {
    this.inner.replace(this.redactor.redact(value));
  }

  clear(): void {
    this.inner.clear();
  }

  show(preserveFocus?: boolean): void;
  show(column?: vscode.ViewColumn, preserveFocus?: boolean): void;
  show(a?: boolean | vscode.ViewColumn, b?: boolean): void {
    if (typeof a === "boolean" || a === undefined) {
      this.inner.show(a);
    } else {
      this.inner.show(a, b);
    }
  }

  hide(): void {
    this.inner.hide();
  }

  dispose(): void {
    this.levelChanged.dispose();
    this.inner.dispose();
  }
}
