/**
 * Finding the `codestral-ls` executable. No `vscode` import: unit-tested with temporary folders.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const EXECUTABLE = "codestral-ls";

export interface Lookup {
  /** `codestral.server.path` as the user wrote it ("" = not set). */
  readonly configured: string;
  /** The private virtual environment the extension may have installed the server into. */
  readonly privateVenv: string;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
}

export type Found =
  | { readonly ok: true; readonly command: string; readonly source: "setting" | "path" | "private" }
  | { readonly ok: false; readonly reason: string; readonly fromSetting: boolean };

export function expandHome(p: string, home = os.homedir()): string {
  if (p === "~") {
    return home;
  }
  if (p.startsWith("~/") || p.startsWith("~\\")) {
    return path.join(home, p.slice(2));
  }
  return p;
}

export function venvExecutable(venv: string, platform: NodeJS.Platform): string {
  return platform === "win32"
    ? path.join(venv, "Scripts", `${EXECUTABLE}.exe`)
    : path.join(venv, "bin", EXECUTABLE);
}

export function venvPython(venv: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? path.join(venv, "Scripts", "python.exe") : path.join(venv, "bin", "python");
}

function isExecutableFile(p: string, platform: NodeJS.Platform): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) {
      return false;
    }
    if (platform === "win32") {
      return true;
    }
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Like `which`: the first match of `name` on PATH (with PATHEXT on Windows). */
export function which(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const sep = platform === "win32" ? ";" : ":";
  const dirs = (env.PATH ?? env.Path ?? "").split(sep).filter((d) => d.length > 0);
  const exts = platform === "win32" ? ["", ...(env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";")] : [""];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = path.join(dir, name + ext);
      if (isExecutableFile(candidate, platform)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The setting wins; then PATH; then the extension's private install. */
export function findServer(l: Lookup): Found {
  const configured = l.configured.trim();
  if (configured) {
    const expanded = expandHome(configured);
    const hasDir = expanded.includes("/") || expanded.includes("\\");
    if (hasDir) {
      return isExecutableFile(expanded, l.platform)
        ? { ok: true, command: expanded, source: "setting" }
        : { ok: false, reason: `codestral.server.path: ${expanded} is not an executable file`, fromSetting: true };
    }
    const onPath = which(expanded, l.env, l.platform);
    return onPath
      ? { ok: true, command: onPath, source: "setting" }
      : { ok: false, reason: `codestral.server.path: '${expanded}' is not on PATH`, fromSetting: true };
  }
  const onPath = which(EXECUTABLE, l.env, l.platform);
  if (onPath) {
    return { ok: true, command: onPath, source: "path" };
  }
  const priv = venvExecutable(l.privateVenv, l.platform);
  if (isExecutableFile(priv, l.platform)) {
    return { ok: true, command: priv, source: "private" };
  }
  return { ok: false, reason: `'${EXECUTABLE}' was not found on PATH`, fromSetting: false };
}
