// Bundles the extension into dist/extension.js with esbuild (`vscode` stays external). A production
// build also writes dist/THIRD-PARTY-NOTICES.txt with the licence of every bundled package.
//   node scripts/build.mjs [--production] [--watch]
import * as esbuild from "esbuild";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");

const options = {
  entryPoints: ["src/extension.ts"],
  bundle: true,
  outfile: "dist/extension.js",
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  sourcemap: !production,
  minify: production,
  metafile: true,
  logLevel: "info",
};

if (watch) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  const result = await esbuild.build(options);
  if (production) {
    writeNotices(result.metafile);
  }
}

function writeNotices(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) {
      const dir = input.slice(0, m.index + m[0].length);
      packages.set(m[1], dir);
    }
  }
  const parts = [];
  for (const [name, dir] of [...packages].sort()) {
    const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8"));
    const licenseFile = readdirSync(dir).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
    const text = licenseFile && existsSync(path.join(dir, licenseFile)) ? readFileSync(path.join(dir, licenseFile), "utf8").trim() : `License: ${pkg.license}`;
    parts.push(`${name}@${pkg.version} (${pkg.license})\n${"-".repeat(60)}\n${text}\n`);
  }
  writeFileSync("dist/THIRD-PARTY-NOTICES.txt", `Packages bundled into dist/extension.js\n\n${parts.join("\n")}`);
  console.log(`  dist/THIRD-PARTY-NOTICES.txt  ${packages.size} packages`);
}
