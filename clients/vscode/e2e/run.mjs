#!/usr/bin/env node
// End-to-end test in a real VS Code: code-server + headless Chromium driven by playwright-core.
//
// It installs the packaged .vsix into a fresh code-server, opens a workspace holding a Python file
// with a hole, types there like a user, waits for the ghost text, accepts it with Tab, saves with
// Ctrl+S and checks the file on disk. It also records the status bar item while the model loads.
//
//   node e2e/run.mjs --code-server DIR --vsix FILE --server PATH --artifacts DIR [options]
//     --code-server DIR   what get-code-server.sh installed (DIR/code-server, DIR/pw/...)
//     --vsix FILE         the packaged extension
//     --server PATH       the codestral-ls executable (codestral.server.path)
//     --artifacts DIR     screenshots, logs and result.json go here
//     --chromium PATH     default /usr/bin/chromium
//     --model-cache DIR   CODESTRAL_LS_CACHE_DIR for the server (a fresh one shows assembly %)
//     --readme-shot FILE  also save a small crop of the editor with the ghost text here
//     --timeout SEC       overall budget (default 420)
//     --extra-settings JSON  more user settings (e.g. another backend while developing)
//     --no-loading-check  do not require the loading state (remote backends have none)
//     --scenario NAME     "ghost-text" (default), "missing-server" (--server names a file that
//                         does not exist; the user must be offered Install / Open Setting once),
//                         "rest-then-type" (below) or "suggestion" (type at the hole, ghost text
//                         appears, Tab accepts, Ctrl+S saves: nothing else)
//     --server-via HOW    how the extension is to find --server: "setting" (default:
//                         codestral.server.path), or with that setting unset and a fresh HOME:
//                         "login-shell" (~/.profile puts the server's folder on PATH, as a user's
//                         profile does: VS Code, code-server too, takes the extension host's PATH
//                         from the user's login shell, not from the process that started it) or
//                         "install-dir" (no profile adds it: the server is in ~/.local/bin, where
//                         pipx and uv put it). The extension's log must say it was found that way.
//   cycle: default settings (only codestral.server.path); --file FILE is copied into the workspace
//   and opened, the cursor goes to the end of --line N (a blank line keeping its indentation),
//   Alt+\ asks for a suggestion explicitly, Alt+] ("Show Next Inline Suggestion") must show a
//   different one (the server's second candidate), Tab accepts it and Ctrl+S saves. result.json
//   holds both ghost texts and the saved line.
//   rest-then-type: default settings (only codestral.server.path); --file FILE is copied into the
//   workspace and opened, the cursor goes to the end of --line N (1-based, a blank line keeping its
//   indentation), rests --rest SEC (default 8), types --type TEXT, and ghost text must appear
//   within --ghost-deadline SEC (default 90) without any other key; Tab accepts, Ctrl+S saves.
// Exit code 0 when every check passed; the reason is printed and written to result.json otherwise.
// Needs Node 24 (code-server's own node, DIR/bin/node).

import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const args = parseArgs(process.argv.slice(2));
const started = Date.now();
const budgetMs = Number(args.timeout ?? 420) * 1000;
const artifacts = path.resolve(required("artifacts"));
fs.mkdirSync(artifacts, { recursive: true });
const csDir = path.resolve(required("code-server"));
const vsix = path.resolve(required("vsix"));
const serverPath = path.resolve(required("server"));
const chromiumPath = args.chromium ?? "/usr/bin/chromium";
const require_ = createRequire(path.join(csDir, "pw", "package.json"));
const { chromium } = require_("playwright-core");

const result = { ok: false, steps: [], statusLabels: [], timings: {}, error: null };
const t = () => ((Date.now() - started) / 1000).toFixed(1);
function step(name, extra = {}) {
  const entry = { t: Number(t()), name, ...extra };
  result.steps.push(entry);
  console.log(`[e2e ${entry.t}s] ${name}${Object.keys(extra).length ? " " + JSON.stringify(extra) : ""}`);
}

// The file the user edits: the body of multiply() is the hole.
const HOLE_FILE = "arith.py";
const ORIGINAL = [
  "def add(a, b):",
  '    """Return the sum of a and b."""',
  "    return a + b",
  "",
  "",
  "def multiply(a, b):",
  '    """Return the product of a and b."""',
  "    ",
  "",
  "",
  "def main():",
  "    print(add(2, 3), multiply(2, 3))",
  "",
].join("\n");
const HOLE_LINE = 8; // 1-based line of the hole (already indented)
const TYPED = "return a";
const HOLE = { name: HOLE_FILE, original: ORIGINAL, holeLine: HOLE_LINE, typed: TYPED };
const FAKE_KEY = "sk-e2e-0123456789abcdef"; // not a real key: checks that keys never reach a log // what the user types before waiting for the suggestion

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "codestral-e2e-"));
const userData = path.join(tmp, "user-data");
const extDir = path.join(tmp, "extensions");
const workspace = path.join(tmp, "workspace");
const profile = path.join(tmp, "chromium-profile");
const stateHome = path.join(tmp, "state");
const serverVia = args["server-via"] ?? "setting";
const home = path.join(tmp, "home");
const csLog = path.join(artifacts, "code-server.log");
let csProc;
let browser;
let currentPage;

try {
  await main();
  result.ok = true;
} catch (err) {
  result.error = err instanceof Error ? err.message : String(err);
  console.error(`[e2e ${t()}s] FAILED: ${result.error}`);
  await currentPage?.screenshot({ path: path.join(artifacts, "failure.png") }).catch(() => undefined);
  const dom = currentPage ? await ghostDom(currentPage).catch(() => "") : "";
  fs.writeFileSync(path.join(artifacts, "ghost-dom.html"), dom);
} finally {
  await cleanup();
  result.timings.totalSec = Number(t());
  fs.writeFileSync(path.join(artifacts, "result.json"), JSON.stringify(result, null, 2));
  console.log(`[e2e] ${result.ok ? "PASSED" : "FAILED"} in ${t()}s; artifacts in ${artifacts}`);
  process.exit(result.ok ? 0 : 1);
}

async function main() {
  for (const d of [userData, extDir, workspace, profile, stateHome]) {
    fs.mkdirSync(d, { recursive: true });
  }
  fs.writeFileSync(path.join(workspace, HOLE_FILE), ORIGINAL);
  if (args.file) {
    fs.copyFileSync(path.resolve(args.file), path.join(workspace, path.basename(args.file)));
  }
  writeUserSettings();

  const install = spawnSync(path.join(csDir, "code-server"), [
    "--user-data-dir", userData, "--extensions-dir", extDir, "--install-extension", vsix,
  ], { encoding: "utf8", timeout: 120_000 });
  fs.writeFileSync(path.join(artifacts, "install-extension.log"), `${install.stdout}\n${install.stderr}`);
  if (install.status !== 0) {
    throw new Error(`code-server --install-extension failed (${install.status}): ${install.stderr || install.stdout}`);
  }
  step("vsix installed", { output: install.stdout.trim().split("\n").pop() });

  const port = await freePort();
  const out = fs.openSync(csLog, "w");
  const env = { ...process.env, XDG_STATE_HOME: stateHome };
  if (args["model-cache"]) {
    env.CODESTRAL_LS_CACHE_DIR = path.resolve(args["model-cache"]);
  }
  if (serverVia !== "setting") {
    env.HOME = prepareHome();
    step("home prepared", { serverVia, home });
  }
  csProc = spawn(path.join(csDir, "code-server"), [
    "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--user-data-dir", userData,
    "--extensions-dir", extDir, "--disable-workspace-trust", "--disable-update-check",
    "--disable-getting-started-override", workspace,
  ], { env, stdio: ["ignore", out, out], detached: true });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, 60_000, "code-server to answer /healthz");
  step("code-server up", { port });

  browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  currentPage = page;
  page.on("pageerror", (e) => fs.appendFileSync(path.join(artifacts, "browser-console.log"), `pageerror: ${e.message}\n`));
  page.on("console", (m) => fs.appendFileSync(path.join(artifacts, "browser-console.log"), `${m.type()}: ${m.text()}\n`));
  // Record every label the status bar item shows, however briefly (a MutationObserver in the page).
  await page.addInitScript(() => {
    window.__codestralLabels = [];
    const seen = () => {
      const el = document.querySelector('[id="codestral-ls.codestral"] [aria-label], [id^="codestral-ls.codestral"][aria-label], [id^="codestral-ls.codestral"] .statusbar-item-label');
      const item = document.querySelector('[id^="codestral-ls.codestral"]');
      const label = (el && el.getAttribute("aria-label")) || (item && item.getAttribute("aria-label")) || "";
      const text = item ? item.textContent.trim() : "";
      const last = window.__codestralLabels[window.__codestralLabels.length - 1];
      if (item && (!last || last.label !== label || last.text !== text)) {
        window.__codestralLabels.push({ t: Date.now(), label, text });
      }
    };
    new MutationObserver(seen).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 90_000 });
  step("workbench loaded");
  if (args.scenario === "missing-server") {
    await missingServer(page);
    return;
  }
  if (args.scenario === "rest-then-type") {
    await restThenType(page);
    return;
  }
  if (args.scenario === "suggestion") {
    await suggestion(page);
    return;
  }
  if (args.scenario === "cycle") {
    await cycle(page);
    return;
  }

  await openFile(page, HOLE_FILE);
  await waitForReady(page);
  const seenLabels = await labels(page);
  result.statusLabels = timeline(seenLabels);
  const loading = seenLabels.filter((l) => /^Codestral: (loading|starting)/.test(l.label));
  const percentages = seenLabels.map((l) => /loading (\d+)%/.exec(l.label)?.[1]).filter(Boolean).map(Number);
  result.loadingPercentages = percentages;
  step("status ready", { labelsSeen: seenLabels.length, loadingLabels: loading.length, percentages: percentages.slice(0, 12) });
  if (!("no-loading-check" in args) && !seenLabels.some((l) => /^Codestral: loading/.test(l.label))) {
    throw new Error(`the status bar never showed loading; labels seen: ${JSON.stringify(result.statusLabels)}`);
  }
  await page.screenshot({ path: path.join(artifacts, "status-ready.png") });

  // Go to the hole (Ctrl+G, line number), end of its indentation, and type like a user.
  let ghost = await typeAtHole(page);
  fs.writeFileSync(path.join(artifacts, "ghost-dom.html"), await ghostDom(page));
  await sleep(300);
  await page.screenshot({ path: path.join(artifacts, "ghost-text.png") });
  if (args["readme-shot"]) {
    await readmeShot(page, path.resolve(args["readme-shot"]));
  }

  // VS Code's own hover toolbar over the ghost text (accept / accept word / next / previous).
  const ghostSpan = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
  const gbox = await ghostSpan.boundingBox();
  if (gbox) {
    await page.mouse.move(gbox.x + gbox.width / 2, gbox.y + gbox.height / 2, { steps: 4 });
  }
  const toolbar = page.locator(".inlineSuggestionsHints").first();
  try {
    await toolbar.waitFor({ state: "visible", timeout: 8_000 });
    result.hoverToolbar = (await toolbar.innerText()).trim() || (await toolbar.getAttribute("aria-label")) || "(icons)";
    step("hover toolbar shown", { toolbar: result.hoverToolbar });
  } catch {
    fs.writeFileSync(path.join(artifacts, "hover-dom.html"), await page.evaluate(() => [...document.querySelectorAll('[class*="inline"][class*="int"], [class*="Hint"]')].map((e) => e.outerHTML.slice(0, 400)).join("\n\n")));
    throw new Error("no hover toolbar (.inlineSuggestionsHints) over the ghost text");
  }
  await page.screenshot({ path: path.join(artifacts, "hover-toolbar.png") });
  await page.mouse.move(640, 700);

  // The tooltip of the status item (backend, model, latency).
  result.statusTooltip = await statusTooltip(page);
  step("status tooltip", { tooltip: result.statusTooltip });
  if (!/Backend: \S+/.test(result.statusTooltip) || !/Last latency: \d+ ms/.test(result.statusTooltip)) {
    throw new Error(`status tooltip lacks backend/latency: ${JSON.stringify(result.statusTooltip)}`);
  }
  // Hovering may have dismissed the ghost text; bring it back the way a user would.
  if (!(await ghostText(page))) {
    await page.click(".monaco-editor .view-lines .view-line >> nth=2", { position: { x: 5, y: 5 } }).catch(() => undefined);
    await page.keyboard.press("End");
    await page.keyboard.press("Alt+Backslash");
    const again = await waitForGhost(page, 60_000);
    if (!again) {
      throw new Error("the ghost text did not come back after hovering the status bar");
    }
    ghost = again;
    result.ghostText = ghost;
  }

  await acceptAndSave(page, HOLE, ghost);
  await page.screenshot({ path: path.join(artifacts, "accepted.png") });

  // Settings are live: turning Python off in settings.json changes the status without a restart.
  writeUserSettings({ "codestral.enable": { "*": true, python: false } });
  await waitFor(async () => (await labels(page)).some((l) => /^Codestral: disabled for python/.test(l.label)), 20_000,
    "the status bar item to say disabled for python", async () => JSON.stringify((await labels(page)).slice(-3)));
  step("disabled for python via settings.json");

  // The API key: set through the command palette, passed to the server, masked in every log.
  await runCommand(page, "Codestral: Set API Key");
  await page.waitForSelector('.quick-input-widget input[type="password"]', { state: "visible", timeout: 10_000 });
  await page.keyboard.type(FAKE_KEY, { delay: 10 });
  await page.keyboard.press("Enter");
  await page.waitForSelector('.notifications-toasts :text("API key saved")', { timeout: 15_000 });
  const trace = () => findFiles(path.join(userData, "logs"), (n) => /codestral/i.test(n)).map((f) => fs.readFileSync(f, "utf8")).join("\n");
  await waitFor(() => /didChangeConfiguration[\s\S]*"api_key": "\*+"/.test(trace()), 20_000,
    "the protocol trace to show the masked api_key being sent", () => trace().slice(-1500));
  if (trace().includes(FAKE_KEY)) {
    throw new Error("the API key appears in an output channel");
  }
  step("API key sent to the server and masked in the logs");

  // The status item's menu, and the doctor through it.
  await page.click('[id^="codestral-ls.codestral"]');
  for (const entry of ["Enable for python", "Open Settings", "Show Logs", "Restart Server", "Run Doctor"]) {
    await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${entry}"]`, { timeout: 10_000 });
  }
  await page.click('.quick-input-list .monaco-list-row[aria-label*="Run Doctor"]');
  await waitFor(() => /codestral-ls \S+ — doctor/.test(codestralLog()), 60_000, "the doctor report in the output channel", () => codestralLog().slice(-800));
  result.doctor = codestralLog().slice(codestralLog().lastIndexOf("— doctor") - 30).split("\n").slice(0, 12).join("\n");
  step("doctor ran from the status menu", { doctor: result.doctor });
  const after = await labels(page);
  result.statusLabels = timeline(after);
  if (!after.some((l) => /^Codestral: working/.test(l.label))) {
    step("note: the working state was not observed (requests can be quicker than a repaint)");
  }
}

// The status bar labels seen, each with the seconds since the driver started.
function timeline(seen) {
  return seen.map((l) => ({ t: secondsSince(started, l.t), label: l.label, text: l.text }));
}

function secondsSince(from, to = Date.now()) {
  return Number(((to - from) / 1000).toFixed(1));
}

// What the extension's output channel (Codestral.log) holds so far.
function codestralLog() {
  return findFiles(path.join(userData, "logs"), (n) => n === "Codestral.log").map((f) => fs.readFileSync(f, "utf8")).join("\n");
}

// At the end of the hole's indentation in arith.py the user types TYPED and waits for ghost text,
// asking explicitly (Alt+\) if none came by itself; the ghost text shown.
async function typeAtHole(page) {
  await goToLineEnd(page, HOLE_LINE);
  await page.keyboard.type(TYPED, { delay: 90 });
  const typedAt = Date.now();
  step("typed", { text: TYPED });
  let ghost = await waitForGhost(page, 90_000);
  if (!ghost) {
    step("no ghost text after typing; asking explicitly (Alt+\\)");
    await page.keyboard.press("Alt+Backslash");
    ghost = await waitForGhost(page, 60_000);
  }
  if (!ghost) {
    throw new Error("no ghost text (.ghost-text-decoration) appeared");
  }
  result.timings.ghostAfterTypingSec = secondsSince(typedAt);
  result.ghostText = ghost;
  step("ghost text shown", { ghost });
  return ghost;
}

// Accepted = the suggestion that was shown is gone; the next one (the server computes it ahead
// of time) may already be on screen, which is a different ghost text, not a failed Tab.
async function acceptWithTab(page) {
  const shown = await ghostText(page);
  await page.keyboard.press("Tab");
  await waitFor(async () => (await ghostText(page)) !== shown, 10_000, "the ghost text to be accepted");
  step("accepted with Tab");
}

// Tab, Ctrl+S, and the saved file must be the original with the typed text and the ghost text at
// the hole (see checkSaved).
async function acceptAndSave(page, hole, ghost) {
  await acceptWithTab(page);
  const saved = await save(page, hole.name, hole.holeLine, hole.typed);
  checkSaved(hole, saved, ghost);
}

// A user at the end of the hole's indentation types `typed`, and the ghost text is accepted: the
// file must be the original with `typed` and the ghost text at the hole, nothing else changed.
function checkSaved({ original, holeLine, typed }, saved, ghost) {
  const lines = original.split("\n");
  const before = lines.slice(0, holeLine - 1).join("\n") + "\n";
  const after = "\n" + lines.slice(holeLine).join("\n");
  const holeIndent = lines[holeLine - 1];
  if (!saved.startsWith(before + holeIndent + typed)) {
    throw new Error(`the saved file does not hold what was typed at the hole:\n${saved.split("\n").slice(Math.max(0, holeLine - 5), holeLine + 5).join("\n")}`);
  }
  if (!saved.endsWith(after)) {
    throw new Error(`the saved file lost the text after the hole:\n${saved.split("\n").slice(Math.max(0, holeLine - 5), holeLine + 5).join("\n")}`);
  }
  const inserted = saved.slice((before + holeIndent + typed).length, saved.length - after.length);
  result.inserted = inserted;
  result.savedLine = saved.split("\n")[holeLine - 1];
  if (!inserted.trim()) {
    throw new Error("nothing was inserted after the typed text");
  }
  // What was inserted must be what the ghost text showed (the inline part may be empty when the
  // suggestion starts with a line break; whitespace is compared loosely, as rendered).
  const norm = (s) => s.replace(/\s+/g, " ").trim();
  if (norm(inserted) !== norm(ghost)) {
    throw new Error(`inserted text ${JSON.stringify(inserted)} is not the ghost text ${JSON.stringify(ghost)}`);
  }
  step("file holds the suggestion", { inserted });
}

// A large real file, default settings: the user opens it, goes to a hole, pauses there (the
// extension tells the server the cursor rests: codestral/didFocus), types one character and gets a
// suggestion without pressing anything else.
async function restThenType(page) {
  const source = path.resolve(required("file"));
  const name = path.basename(source);
  const holeLine = Number(required("line"));
  const typed = required("type");
  const restMs = Number(args.rest ?? 8) * 1000;
  const deadlineMs = Number(args["ghost-deadline"] ?? 90) * 1000;
  const original = fs.readFileSync(path.join(workspace, name), "utf8");

  await openFile(page, name);
  await waitForReady(page);
  result.statusLabels = timeline(await labels(page));
  await goToLineEnd(page, holeLine);
  step("cursor at the hole", { line: holeLine });
  await sleep(restMs);
  step("rested", { seconds: restMs / 1000, ghostWhileResting: await ghostText(page) });
  await page.keyboard.type(typed, { delay: 90 });
  const typedAt = Date.now();
  step("typed", { text: typed });
  const ghost = await waitForGhost(page, deadlineMs);
  if (!ghost) {
    throw new Error(`no ghost text within ${deadlineMs / 1000}s of typing ${JSON.stringify(typed)} (no other key was pressed)`);
  }
  result.timings.ghostAfterTypingSec = secondsSince(typedAt);
  result.ghostText = ghost;
  step("ghost text shown", { ghost, afterSec: result.timings.ghostAfterTypingSec });
  await page.screenshot({ path: path.join(artifacts, "ghost-text.png") });
  await acceptAndSave(page, { name, original, holeLine, typed }, ghost);
  await page.screenshot({ path: path.join(artifacts, "accepted.png") });
}

// Several candidates: an explicit request (Alt+\) gets the server's candidates, VS Code's "Show
// Next Inline Suggestion" (Alt+]) shows the second, Tab accepts it.
async function cycle(page) {
  const source = path.resolve(required("file"));
  const name = path.basename(source);
  const holeLine = Number(required("line"));
  const original = fs.readFileSync(path.join(workspace, name), "utf8");
  const hole = original.split("\n")[holeLine - 1];

  await openFile(page, name);
  await waitForReady(page);
  await goToLineEnd(page, holeLine);
  step("cursor at the hole", { line: holeLine });
  await page.keyboard.press("Alt+Backslash");
  const first = await waitForGhost(page, 120_000);
  if (!first) {
    throw new Error("no ghost text after Alt+\\ (editor.action.inlineSuggest.trigger)");
  }
  result.firstGhost = first;
  step("ghost text shown", { ghost: first });
  await sleep(500); // the explicit answer may replace an automatic one: let it settle
  result.firstGhost = (await ghostText(page)) || first;
  await page.screenshot({ path: path.join(artifacts, "first-candidate.png") });
  await page.keyboard.press("Alt+BracketRight");
  let second = "";
  await waitFor(async () => {
    second = await ghostText(page);
    return second && second !== result.firstGhost;
  }, 60_000, "Alt+] (editor.action.inlineSuggest.showNext) to show another suggestion",
  async () => JSON.stringify({ first: result.firstGhost, now: await ghostText(page) }));
  await sleep(300);
  second = (await ghostText(page)) || second;
  result.secondGhost = second;
  step("next suggestion shown", { ghost: second });
  await page.screenshot({ path: path.join(artifacts, "second-candidate.png") });
  await acceptWithTab(page);
  await page.keyboard.press("Control+S");
  const file = path.join(workspace, name);
  let saved = "";
  await waitFor(async () => {
    const before = fs.readFileSync(file, "utf8");
    await sleep(150);
    saved = fs.readFileSync(file, "utf8");
    return saved === before && saved !== original;
  }, 15_000, "the file to be saved", () => JSON.stringify(fs.readFileSync(file, "utf8").split("\n")[holeLine - 1]));
  fs.writeFileSync(path.join(artifacts, `saved-${name}`), saved);
  const lines = saved.split("\n");
  result.savedLine = lines[holeLine - 1];
  result.savedRestUnchanged =
    lines.slice(0, holeLine - 1).join("\n") === original.split("\n").slice(0, holeLine - 1).join("\n") &&
    lines.slice(holeLine).join("\n") === original.split("\n").slice(holeLine).join("\n");
  if (result.savedLine === hole) {
    throw new Error("nothing was inserted at the hole");
  }
  step("saved", { line: result.savedLine });
}

// The server is not named in any setting: the extension must find it where a user's install put
// it (see --server-via), and a suggestion must come from it.
async function suggestion(page) {
  await openFile(page, HOLE_FILE);
  await waitForReady(page);
  result.statusLabels = timeline(await labels(page));
  const startLine = /Starting (\S+) \(found via ([\w-]+)\)/.exec(codestralLog());
  result.serverFound = startLine ? { command: startLine[1], via: startLine[2] } : null;
  step("server found", result.serverFound ?? {});
  const expectedVia = { setting: "setting", "login-shell": "path", "install-dir": "install-dir" }[serverVia];
  if (!startLine || startLine[2] !== expectedVia) {
    throw new Error(`the extension should have found the server via ${expectedVia}; its log says: ${codestralLog().slice(-1500)}`);
  }
  const ghost = await typeAtHole(page);
  await page.screenshot({ path: path.join(artifacts, "ghost-text.png") });
  await acceptAndSave(page, HOLE, ghost);
}

// A fresh home for code-server (and so for the login shell it asks for the environment), with the
// server installed the way --server-via says. PATH as code-server itself is started stays as it
// is: the server's folder is never on it.
function prepareHome() {
  const link = (dir) => {
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(serverPath, path.join(dir, "codestral-ls"));
    return dir;
  };
  fs.mkdirSync(home, { recursive: true });
  if (serverVia === "login-shell") {
    // As after `python -m venv ~/apps/codestral-ls` and a line in ~/.profile.
    link(path.join(home, "apps", "codestral-ls", "bin"));
    for (const profile of [".profile", ".zprofile"]) { // bash (and sh), zsh
      fs.writeFileSync(path.join(home, profile), 'PATH="$HOME/apps/codestral-ls/bin:$PATH"\nexport PATH\n');
    }
  } else if (serverVia === "install-dir") {
    // As `pipx install` / `uv tool install` leave it when no profile puts ~/.local/bin on PATH.
    link(path.join(home, ".local", "bin"));
    fs.writeFileSync(path.join(home, ".profile"), "# nothing adds ~/.local/bin to PATH\n");
  } else {
    throw new Error(`unknown --server-via ${serverVia}`);
  }
  return home;
}

async function openFile(page, name) {
  // Open the file as a user would: Quick Open.
  await page.waitForSelector(".part.statusbar", { timeout: 60_000 });
  await sleep(1500);
  await page.keyboard.press("Control+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 30_000 });
  await page.keyboard.type(name, { delay: 30 });
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${name}"]`, { timeout: 30_000 });
  await sleep(300);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".monaco-editor .view-lines", { timeout: 30_000 });
  step("file opened", { file: name });
}

async function waitForReady(page) {
  // The status bar item must show loading, then ready.
  await waitFor(async () => {
    const all = await labels(page);
    const last = all[all.length - 1];
    if (last && /^Codestral: error/.test(last.label) && Date.now() - last.t > 10_000) {
      throw new Error(`the status bar item shows an error: ${last.label}`);
    }
    return all.some((l) => /^Codestral: ready/.test(l.label));
  }, 240_000, "the status bar item to say ready", async () => JSON.stringify(await labels(page)));
}

async function goToLineEnd(page, line) {
  await page.click(".monaco-editor .view-lines");
  await page.keyboard.press("Control+G");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 10_000 });
  await page.keyboard.type(String(line), { delay: 30 });
  await page.keyboard.press("Enter");
  await page.keyboard.press("End");
}

async function save(page, name, holeLine, typed) {
  await page.keyboard.press("Control+S");
  const file = path.join(workspace, name);
  // The editor writes the file in place: wait until it holds the typed text and reads the same twice.
  let saved = "";
  await waitFor(async () => {
    const first = fs.readFileSync(file, "utf8");
    await sleep(150);
    saved = fs.readFileSync(file, "utf8");
    return saved === first && (saved.split("\n")[holeLine - 1] ?? "").trimStart().startsWith(typed);
  }, 15_000, "the file to be saved", () => JSON.stringify(fs.readFileSync(file, "utf8").split("\n")[holeLine - 1]));
  fs.writeFileSync(path.join(artifacts, `saved-${name}`), saved);
  step("saved");
  return saved;
}

async function missingServer(page) {
  await waitFor(async () => (await labels(page)).some((l) => /^Codestral: server not found/.test(l.label)), 60_000,
    "the status bar item to say the server was not found", async () => JSON.stringify(await labels(page)));
  const toast = page.locator(".notifications-toasts .notification-toast", { hasText: "codestral-ls server was not found" });
  await toast.waitFor({ state: "visible", timeout: 30_000 });
  result.notification = (await toast.innerText()).trim();
  step("not-found notification shown", { text: result.notification });
  await page.screenshot({ path: path.join(artifacts, "missing-server.png") });
  for (const button of ["Install", "Open Setting"]) {
    if ((await toast.getByRole("button", { name: button }).count()) !== 1) {
      throw new Error(`the notification has no "${button}" button: ${result.notification}`);
    }
  }
  if ((await page.locator(".notifications-toasts .notification-toast", { hasText: "was not found" }).count()) !== 1) {
    throw new Error("the not-found notification was shown more than once");
  }
  await toast.getByRole("button", { name: "Open Setting" }).click();
  await page.waitForSelector(".settings-editor", { timeout: 20_000 });
  await page.waitForSelector('.settings-editor [data-key="codestral.server.path"], .settings-editor .setting-item-contents[aria-label*="Server: Path"], .settings-editor .setting-item-label:text("Path")', { timeout: 20_000 });
  step("Open Setting showed codestral.server.path");
  await page.screenshot({ path: path.join(artifacts, "missing-server-setting.png") });
}

async function runCommand(page, title) {
  await page.keyboard.press("Control+Shift+P");
  await page.waitForSelector(".quick-input-widget input", { state: "visible", timeout: 10_000 });
  await page.keyboard.type(title, { delay: 20 });
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 15_000 });
  await page.keyboard.press("Enter");
}

async function labels(page) {
  return page.evaluate(() => window.__codestralLabels ?? []);
}

async function ghostText(page) {
  // Ghost text is spans with `ghost-text-decoration` (on the cursor line) or `ghost-text` (the
  // further lines, in a view zone). Group them by screen line, top to bottom.
  return page.evaluate(() => {
    const rows = new Map();
    for (const span of document.querySelectorAll(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text")) {
      const line = span.closest(".view-line") ?? span.parentElement;
      const top = Math.round(line.getBoundingClientRect().top);
      const row = rows.get(top) ?? [];
      row.push({ left: span.getBoundingClientRect().left, text: span.textContent ?? "" });
      rows.set(top, row);
    }
    const text = [...rows.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, row]) => row.sort((a, b) => a.left - b.left).map((r) => r.text).join(""))
      .join("\n")
      .replace(/\u00a0/g, " ");
    return text.trim() ? text : "";
  });
}

async function ghostDom(page) {
  return page.evaluate(() => [...document.querySelectorAll('[class*="ghost"]')].map((e) => e.outerHTML.slice(0, 600)).join("\n\n"));
}

async function waitForGhost(page, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end && Date.now() - started < budgetMs) {
    const g = await ghostText(page);
    if (g) {
      return g;
    }
    await sleep(250);
  }
  return "";
}

async function statusTooltip(page) {
  const item = page.locator('[id^="codestral-ls.codestral"]').first();
  await item.hover();
  const hover = page.locator(".monaco-hover:visible, .workbench-hover:visible, .custom-hover:visible").first();
  try {
    await hover.waitFor({ state: "visible", timeout: 8_000 });
    const text = (await hover.innerText()).trim();
    await page.mouse.move(640, 300);
    return text;
  } catch {
    const title = await item.getAttribute("title");
    await page.mouse.move(640, 300);
    return title ?? "";
  }
}

async function readmeShot(page, file) {
  const editor = page.locator(".monaco-editor .overflow-guard").first();
  const box = await editor.boundingBox();
  if (!box) {
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, clip: { x: box.x, y: box.y, width: Math.min(box.width, 760), height: Math.min(box.height, 260) } });
  step("readme screenshot", { file });
}

async function cleanup() {
  try {
    await browser?.close();
  } catch {
    // already gone
  }
  if (csProc && csProc.exitCode === null) {
    try {
      process.kill(-csProc.pid, "SIGTERM"); // code-server and its extension host (and codestral-ls)
    } catch {
      // already gone
    }
    const end = Date.now() + 5000;
    while (csProc.exitCode === null && Date.now() < end) {
      await sleep(100);
    }
    try {
      process.kill(-csProc.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  // The extension's output channels and the server's own log, for failure analysis.
  for (const f of findFiles(path.join(userData, "logs"), (n) => /codestral/i.test(n) || n === "exthost.log")) {
    copyInto(f, "vscode-logs");
  }
  for (const f of findFiles(stateHome, () => true)) {
    copyInto(f, "server-logs");
  }
  fs.rmSync(tmp, { recursive: true, force: true });
}

function copyInto(file, sub) {
  const dir = path.join(artifacts, sub);
  fs.mkdirSync(dir, { recursive: true });
  const name = path.relative(tmp, file).replace(/[\\/]/g, "__");
  try {
    fs.copyFileSync(file, path.join(dir, name));
  } catch {
    // unreadable: skip
  }
}

function findFiles(dir, pred) {
  const out = [];
  if (!fs.existsSync(dir)) {
    return out;
  }
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      out.push(...findFiles(p, pred));
    } else if (pred(e.name)) {
      out.push(p);
    }
  }
  return out;
}

function writeUserSettings(extra = {}) {
  const settings = {
    "editor.quickSuggestions": { other: "off", comments: "off", strings: "off" },
    "editor.wordBasedSuggestions": "off",
    "editor.suggestOnTriggerCharacters": false,
    "editor.inlineSuggest.enabled": true,
    "editor.minimap.enabled": false,
    "editor.fontSize": 15,
    "workbench.startupEditor": "none",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "chat.commandCenter.enabled": false,
    "workbench.tips.enabled": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "workbench.colorTheme": "Default Dark Modern",
    "workbench.enableExperiments": false,
    "security.workspace.trust.enabled": false,
    "extensions.autoUpdate": false,
    "extensions.autoCheckUpdates": false,
    "extensions.ignoreRecommendations": true,
    "update.mode": "none",
    "telemetry.telemetryLevel": "off",
    "chat.disableAIFeatures": true,
    "files.autoSave": "off",
    ...(serverVia === "setting" ? { "codestral.server.path": serverPath } : {}),
    // The rest-then-type and cycle scenarios are what a new user gets: every other codestral.* at
    // its default.
    ...(args.scenario === "rest-then-type" || args.scenario === "cycle"
      ? {}
      : { "codestral.maxTokens": 24, "codestral.debounceMs": 50, "codestral.trace.server": "verbose" }),
    ...(args["extra-settings"] ? JSON.parse(args["extra-settings"]) : {}),
    ...extra,
  };
  // code-server is a remote window: machine-scoped settings (codestral.server.path) are read from
  // the remote ("Machine") settings, the rest from the user's.
  for (const scope of ["User", "Machine"]) {
    fs.mkdirSync(path.join(userData, scope), { recursive: true });
    fs.writeFileSync(path.join(userData, scope, "settings.json"), JSON.stringify(settings, null, 2));
  }
}

async function waitFor(check, ms, what, describe) {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) {
      return;
    }
    if (Date.now() > end || Date.now() - started > budgetMs) {
      const extra = describe ? `; ${await describe()}` : "";
      throw new Error(`timed out after ${Math.round(ms / 1000)}s waiting for ${what}${extra}`);
    }
    await sleep(200);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--no-loading-check") {
      out["no-loading-check"] = true;
    } else if (a.startsWith("--")) {
      out[a.slice(2)] = argv[i + 1];
      i++;
    }
  }
  return out;
}

function required(name) {
  if (!args[name]) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
  return args[name];
}
