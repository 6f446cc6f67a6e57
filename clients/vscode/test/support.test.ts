import * as assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { formatDoctor, parseDoctor } from "../src/doctor";
import { PORTABLE_CMAKE_ARGS, installPlan } from "../src/installPlan";
import { OnceFilter } from "../src/once";
import { MASK, Redactor } from "../src/redact";
import { expandHome, findServer, installDirs, venvExecutable } from "../src/serverPath";

describe("finding the server", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "codestral-vscode-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const exe = (p: string): string => {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, "#!/bin/sh\n");
    chmodSync(p, 0o755);
    return p;
  };

  it("uses the setting when it names an executable file", () => {
    const p = exe(path.join(dir, "custom", "codestral-ls"));
    assert.deepEqual(findServer({ configured: p, privateVenv: path.join(dir, "venv"), env: { PATH: "" }, platform: "linux", home: dir }), {
      ok: true, command: p, source: "setting",
    });
  });

  it("reports a setting that points nowhere, and says it came from the setting", () => {
    const r = findServer({ configured: path.join(dir, "nope"), privateVenv: dir, env: { PATH: "" }, platform: "linux", home: dir });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.fromSetting, true);
  });

  it("does not take a non-executable file", () => {
    const p = path.join(dir, "codestral-ls");
    writeFileSync(p, "");
    chmodSync(p, 0o644);
    assert.equal(findServer({ configured: p, privateVenv: dir, env: {}, platform: "linux", home: dir }).ok, false);
  });

  it("looks on PATH, then in the private virtual environment", () => {
    const venv = path.join(dir, "venv");
    const priv = exe(venvExecutable(venv, "linux"));
    assert.deepEqual(findServer({ configured: "", privateVenv: venv, env: { PATH: path.join(dir, "empty") }, platform: "linux", home: dir }), {
      ok: true, command: priv, source: "private",
    });
    const onPath = exe(path.join(dir, "bin", "codestral-ls"));
    assert.deepEqual(findServer({ configured: "", privateVenv: venv, env: { PATH: path.join(dir, "bin") }, platform: "linux", home: dir }), {
      ok: true, command: onPath, source: "path",
    });
  });

  it("says what is missing when nothing is found", () => {
    const r = findServer({ configured: "", privateVenv: path.join(dir, "venv"), env: { PATH: dir }, platform: "linux", home: dir });
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : "", /not found on PATH/);
  });

  it("finds a pipx / uv / pip --user install in ~/.local/bin when PATH lacks it", () => {
    const venv = path.join(dir, "venv");
    exe(venvExecutable(venv, "linux"));
    const local = exe(path.join(dir, ".local", "bin", "codestral-ls"));
    assert.deepEqual(findServer({ configured: "", privateVenv: venv, env: { PATH: path.join(dir, "empty") }, platform: "linux", home: dir }), {
      ok: true, command: local, source: "install-dir",
    });
    // PATH still comes first.
    const onPath = exe(path.join(dir, "bin", "codestral-ls"));
    assert.deepEqual(findServer({ configured: "", privateVenv: venv, env: { PATH: path.join(dir, "bin") }, platform: "linux", home: dir }), {
      ok: true, command: onPath, source: "path",
    });
  });

  it("honours PIPX_BIN_DIR, UV_TOOL_BIN_DIR and XDG_BIN_HOME", () => {
    const tools = exe(path.join(dir, "tools", "codestral-ls"));
    assert.deepEqual(findServer({ configured: "", privateVenv: dir, env: { PATH: "", UV_TOOL_BIN_DIR: path.join(dir, "tools") }, platform: "linux", home: dir }), {
      ok: true, command: tools, source: "install-dir",
    });
    assert.deepEqual(installDirs({ PIPX_BIN_DIR: "/p", XDG_BIN_HOME: "~/xb", UV_TOOL_BIN_DIR: "relative" }, "linux", "/home/u"), [
      "/p", path.join("/home/u", "xb"), path.join("/home/u", ".local", "bin"),
    ]);
  });

  it("knows the macOS and Windows install folders", () => {
    const mac = installDirs({}, "darwin", dir);
    mkdirSync(path.join(dir, "Library", "Python", "3.9", "bin"), { recursive: true });
    mkdirSync(path.join(dir, "Library", "Python", "3.12", "bin"), { recursive: true });
    assert.ok(mac.includes("/opt/homebrew/bin") && mac.includes("/usr/local/bin"));
    const mac2 = installDirs({}, "darwin", dir);
    assert.deepEqual(mac2.filter((d) => d.includes("Library")), [
      path.join(dir, "Library", "Python", "3.12", "bin"), path.join(dir, "Library", "Python", "3.9", "bin"),
    ]);
    const appdata = path.join(dir, "AppData");
    mkdirSync(path.join(appdata, "Python", "Python311", "Scripts"), { recursive: true });
    assert.deepEqual(installDirs({ APPDATA: appdata }, "win32", dir), [path.join(dir, ".local", "bin"), path.join(appdata, "Python", "Python311", "Scripts")]);
  });

  it("says where it looked when nothing is found", () => {
    const r = findServer({ configured: "", privateVenv: path.join(dir, "venv"), env: { PATH: dir }, platform: "linux", home: dir });
    assert.match(!r.ok ? r.reason : "", /not found on PATH nor in ~\/\.local\/bin/);
  });

  it("expands ~", () => {
    assert.equal(expandHome("~/bin/x", "/home/u"), path.join("/home/u", "bin/x"));
    assert.equal(expandHome("/abs", "/home/u"), "/abs");
  });
});

describe("install plan", () => {
  it("creates the venv, then pip-installs the server with the local extra", () => {
    const steps = installPlan("/usr/bin/python3", "/store/venv", "codestral-ls[local]", "linux", false);
    assert.deepEqual(steps.map((s) => [s.command, ...s.args].slice(0, 4)), [
      ["/usr/bin/python3", "-c", steps[0]?.args[1]],
      ["/usr/bin/python3", "-m", "venv", "/store/venv"],
      ["/store/venv/bin/python", "-m", "pip", "install"],
      ["/store/venv/bin/python", "-m", "pip", "install"],
    ]);
    assert.equal(steps.at(-1)?.args.at(-1), "codestral-ls[local]");
  });

  it("reuses an existing venv", () => {
    const steps = installPlan("python3", "/v", "codestral-ls[local]", "linux", true);
    assert.equal(steps.some((s) => s.args.includes("venv")), false);
  });

  it("builds llama-cpp-python portable on x86-64 Linux only", () => {
    const linux = installPlan("python3", "/v", "codestral-ls[local]", "linux", true, "x64");
    assert.equal(linux.at(-1)?.env?.CMAKE_ARGS, PORTABLE_CMAKE_ARGS);
    assert.match(PORTABLE_CMAKE_ARGS, /-DGGML_NATIVE=OFF .*-DGGML_AVX2=ON/);
    for (const [platform, arch] of [["darwin", "arm64"], ["linux", "arm64"], ["win32", "x64"]] as const) {
      assert.equal(installPlan("python3", "/v", "s", platform, true, arch).at(-1)?.env, undefined);
    }
  });
});

describe("secrets", () => {
  it("are masked in plain and JSON-escaped form", () => {
    const r = new Redactor();
    r.setSecrets(["sk-abc\"123", undefined]);
    assert.equal(r.redact('{"api_key":"sk-abc\\"123"} and sk-abc"123'), `{"api_key":"${MASK}"} and ${MASK}`);
  });

  it("are not invented when there is none", () => {
    const r = new Redactor();
    r.setSecrets([undefined, ""]);
    assert.equal(r.redact("nothing to hide"), "nothing to hide");
  });
});

describe("errors shown once", () => {
  it("lets a message through once, and again after a reset", () => {
    const once = new OnceFilter();
    assert.equal(once.first("boom"), true);
    assert.equal(once.first("boom"), false);
    assert.equal(once.first("other"), true);
    once.reset();
    assert.equal(once.first("boom"), true);
  });

  it("can silence for a window only", () => {
    let t = 0;
    const once = new OnceFilter(1000, () => t);
    assert.equal(once.first("x"), true);
    t = 500;
    assert.equal(once.first("x"), false);
    t = 1600;
    assert.equal(once.first("x"), true);
  });
});

describe("doctor", () => {
  it("formats the server's checks and counts failures", () => {
    const report = parseDoctor({ version: "0.1.0", checks: [{ name: "model", ok: true, detail: "found" }, { name: "llama_cpp", ok: false, detail: "missing" }] });
    assert.ok(report);
    const { text, failed } = formatDoctor(report);
    assert.equal(failed, 1);
    assert.match(text, /ok +model: found/);
    assert.match(text, /FAIL +llama_cpp: missing/);
  });

  it("rejects a malformed answer", () => {
    assert.equal(parseDoctor({ version: "1" }), undefined);
  });
});
