/**
 * "Install codestral-ls for me": a private virtual environment under the extension's global
 * storage and `pip install` of the server with its local-model extra. The plan is pure (tested);
 * running it streams every line to the output channel under a cancellable progress notification.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as vscode from "vscode";
import { findPython, installPlan, type Step } from "./installPlan";
import { venvPython } from "./serverPath";

export { DEFAULT_INSTALL_SPEC } from "./installPlan";

function runStep(step: Step, log: (line: string) => void, token: vscode.CancellationToken): Promise<void> {
  return new Promise((resolve, reject) => {
    const added = Object.entries(step.env ?? {}).filter(([k]) => process.env[k] === undefined);
    const prefix = added.map(([k, v]) => `${k}=${JSON.stringify(v)} `).join("");
    log(`$ ${prefix}${[step.command, ...step.args].map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}`);
    const env = { ...step.env, ...process.env };
    const child = spawn(step.command, [...step.args], { env, stdio: ["ignore", "pipe", "pipe"] });
    const pump = (chunk: Buffer): void => {
      for (const line of chunk.toString("utf8").split(/\r?\n/)) {
        if (line.trim()) {
          log(line);
        }
      }
    };
    child.stdout.on("data", pump);
    child.stderr.on("data", pump);
    const cancel = token.onCancellationRequested(() => child.kill());
    child.on("error", (err) => {
      cancel.dispose();
      reject(err);
    });
    child.on("close", (code, signal) => {
      cancel.dispose();
      if (token.isCancellationRequested) {
        reject(new Error("cancelled"));
      } else if (code === 0) {
        resolve();
      } else {
        reject(new Error(`${step.title} failed (${signal ?? `exit code ${code}`}); see the output for details`));
      }
    });
  });
}

/** Runs the plan; resolves to true when the server was installed. */
export async function installServer(venv: string, spec: string, output: vscode.OutputChannel): Promise<boolean> {
  const python = findPython(process.env, process.platform);
  if (!python) {
    void vscode.window.showErrorMessage("Codestral: no Python found on PATH (python3). Install Python 3.11+ first.");
    return false;
  }
  const exists = fs.existsSync(venvPython(venv, process.platform));
  const plan = installPlan(python, venv, spec, process.platform, exists, process.arch);
  output.appendLine(`Installing codestral-ls into ${venv}`);
  output.show(true);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Codestral: installing the server", cancellable: true },
      async (progress, token) => {
        for (const [i, step] of plan.entries()) {
          progress.report({ message: step.title, increment: i === 0 ? 0 : 100 / plan.length });
          await runStep(step, (line) => output.appendLine(line), token);
        }
      },
    );
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    output.appendLine(`Install failed: ${msg}`);
    if (msg !== "cancelled") {
      void vscode.window.showErrorMessage(`Codestral: installing the server failed: ${msg}`, "Show Logs").then((a) => {
        if (a) {
          output.show();
        }
      });
    }
    return false;
  }
  output.appendLine("codestral-ls installed.");
  return true;
}
