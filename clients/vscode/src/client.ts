/**
 * The language client: `vscode-languageclient` over stdio, plus two taps on the incoming stream.
 *
 * - `window/showMessage` is taken over so that each error shows once with a button to the setting
 *   it is about (the library's default shows a bare popup each time, even during `initialize`).
 * - `$/progress` is observed (and passed on, so VS Code's own progress UI still works) to put the
 *   model-loading percentage into the status bar item.
 */
import {
  LanguageClient,
  TransportKind,
  type LanguageClientOptions,
  type MessageTransports,
  type ServerOptions,
  type ShowMessageParams,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
  type DataCallback,
  type Message,
  type MessageReader,
} from "vscode-languageclient/node";

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export interface Taps {
  onShowMessage(params: ShowMessageParams): void;
  onProgress(token: string | number, value: ProgressValue): void;
}

interface IncomingNotification {
  readonly method: string;
  readonly params?: unknown;
}

function isNotification(m: Message): m is Message & IncomingNotification {
  const r = m as unknown as Record<string, unknown>;
  return typeof r.method === "string" && !("id" in r);
}

/** A reader that hands some notifications to `taps` before (or instead of) the connection. */
export function tapReader(reader: MessageReader, taps: Taps): MessageReader {
  return {
    onError: reader.onError,
    onClose: reader.onClose,
    onPartialMessage: reader.onPartialMessage,
    dispose: () => reader.dispose(),
    listen: (callback: DataCallback) =>
      reader.listen((message: Message) => {
        if (isNotification(message)) {
          if (message.method === "window/showMessage") {
            try {
              taps.onShowMessage(message.params as ShowMessageParams);
            } catch {
              // a broken tap must not break the connection
            }
            return;
          }
          if (message.method === "$/progress") {
            const p = message.params as { token?: string | number; value?: ProgressValue } | undefined;
            if (p && p.token !== undefined && p.value && typeof p.value === "object") {
              try {
                taps.onProgress(p.token, p.value);
              } catch {
                // as above
              }
            }
          }
        }
        callback(message);
      }),
  };
}

export class CodestralLanguageClient extends LanguageClient {
  constructor(
    serverOptions: ServerOptions,
    clientOptions: LanguageClientOptions,
    private readonly taps: Taps,
  ) {
    super("codestral", "Codestral", serverOptions, clientOptions);
  }

  protected override async createMessageTransports(encoding: string): Promise<MessageTransports> {
    const transports = await super.createMessageTransports(encoding);
    return { ...transports, reader: tapReader(transports.reader, this.taps) };
  }
}

/** Server options for `codestral-ls` over stdio (the library adds `--stdio`). */
export function serverOptions(command: string, cwd: string | undefined): ServerOptions {
  const exec = {
    command,
    args: [] as string[],
    transport: TransportKind.stdio,
    options: { cwd, env: { ...process.env } },
  };
  return { run: exec, debug: exec };
}

export const STATUS_METHOD = "codestral/status";
export const DOCTOR_METHOD = "codestral/doctor";
