// Bundles each unit test into out/test/ (mocha then runs plain JS). The tested modules do not
// import `vscode`, so the tests run in bare Node without an editor.
import * as esbuild from "esbuild";
import { readdirSync } from "node:fs";

const tests = readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`);
await esbuild.build({
  entryPoints: tests,
  bundle: true,
  outdir: "out/test",
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode", "mocha"],
  sourcemap: "inline",
  logLevel: "warning",
});
