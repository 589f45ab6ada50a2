#!/usr/bin/env node
// `npm run build`: compiles the guardian and the TypeChain typings it loads at run time to dist/ (tsc,
// incremental), copies the guardian's non-TypeScript files beside the compiled code (the example config,
// and any template or asset a module reads relative to __dirname), then stamps dist/.built, which
// bin/failsafe.cjs compares with the sources to never run a stale build.
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const dist = path.join(root, "dist");

try {
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [root] }), "-p", path.join(root, "tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit",
  });
} catch {
  process.stderr.write("build: tsc -p tsconfig.build.json failed (see above)\n");
  process.exit(1);
}

/** Copies every file under `from` that tsc does not emit (anything but .ts) to the same place under `to`. */
function copyAssets(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyAssets(source, target);
    else if (!entry.name.endsWith(".ts")) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, target);
    }
  }
}
copyAssets(path.join(root, "guardian"), path.join(dist, "guardian"));
fs.writeFileSync(path.join(dist, ".built"), `${new Date().toISOString()}\n`);
