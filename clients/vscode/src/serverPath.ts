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
  /** The user's home folder (default: `os.homedir()`). */
  readonly home?: string;
}

export type Found =
  | { readonly ok: true; readonly command: string; readonly source: "setting" | "path" | "install-dir" | "private" }
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

/** Newest first: `Python3.12` before `Python3.9`. */
function pythonVersionDirs(parent: string, prefix: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return [];
  }
  const version = (n: string): number[] => n.slice(prefix.length).split(".").map((x) => Number.parseInt(x, 10) || 0);
  return names
    .filter((n) => n.startsWith(prefix) && /^\d/.test(n.slice(prefix.length)))
    .sort((a, b) => {
      const [va, vb] = [version(a), version(b)];
      return (vb[0] ?? 0) - (va[0] ?? 0) || (vb[1] ?? 0) - (va[1] ?? 0);
    })
    .map((n) => path.join(parent, n));
}

/**
 * Folders where the usual installers put `codestral-ls`, for when the editor's PATH lacks them:
 * VS Code takes PATH from the user's login shell (a remote or code-server window too), and a
 * profile that never adds `~/.local/bin` — pipx or uv installed without `ensurepath`, a shell that
 * VS Code cannot run, an app started from the dock — leaves them out.
 *   pipx: $PIPX_BIN_DIR, else ~/.local/bin;  uv tool: $UV_TOOL_BIN_DIR, $XDG_BIN_HOME, else
 *   ~/.local/bin;  pip install --user: ~/.local/bin (Linux), ~/Library/Python/3.X/bin (macOS),
 *   %APPDATA%\Python\Python3X\Scripts (Windows);  Homebrew: /opt/homebrew/bin, /usr/local/bin.
 */
export function installDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string[] {
  const dirs: string[] = [];
  for (const name of ["PIPX_BIN_DIR", "UV_TOOL_BIN_DIR", "XDG_BIN_HOME"]) {
    const value = env[name];
    if (value && path.isAbsolute(expandHome(value, home))) {
      dirs.push(expandHome(value, home));
    }
  }
  dirs.push(path.join(home, ".local", "bin"));
  if (platform === "darwin") {
    dirs.push(...pythonVersionDirs(path.join(home, "Library", "Python"), "").map((d) => path.join(d, "bin")));
    dirs.push("/opt/homebrew/bin", "/usr/local/bin");
  } else if (platform === "win32") {
    if (env.APPDATA) {
      dirs.push(...pythonVersionDirs(path.join(env.APPDATA, "Python"), "Python").map((d) => path.join(d, "Scripts")));
    }
  }
  return [...new Set(dirs)];
}

/** The setting wins; then PATH; then the usual install folders; then the extension's private install. */
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
  const home = l.home ?? os.homedir();
  const dirs = installDirs(l.env, l.platform, home);
  const installed = which(EXECUTABLE, { PATH: dirs.join(l.platform === "win32" ? ";" : ":"), PATHEXT: l.env.PATHEXT }, l.platform);
  if (installed) {
    return { ok: true, command: installed, source: "install-dir" };
  }
  const priv = venvExecutable(l.privateVenv, l.platform);
  if (isExecutableFile(priv, l.platform)) {
    return { ok: true, command: priv, source: "private" };
  }
  const shown = dirs.map((d) => (d.startsWith(home + path.sep) ? `~${d.slice(home.length)}` : d));
  return { ok: false, reason: `'${EXECUTABLE}' was not found on PATH nor in ${shown.join(", ")}`, fromSetting: false };
}
