#!/usr/bin/env node
// The `failsafe` command runs the guardian compiled to JavaScript (dist/, built by `npm run build`, which
// `npm ci` runs through `prepare`), so start-up needs no TypeScript compiler. In the development checkout,
// where the TypeScript sources sit beside dist/, a dist/ older than any source would run stale code: then
// the sources run through tsx (a devDependency) instead, so an edit is never silently ignored.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const compiled = path.join(root, "dist", "guardian", "cli.js");
const builtStamp = path.join(root, "dist", ".built");
const sourceCli = path.join(root, "guardian", "cli.ts");

/** The newest modification time among the .ts files under `dir` (0 when it is missing). */
function newestSource(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function distIsCurrent() {
  let built;
  try {
    built = fs.statSync(builtStamp).mtimeMs;
  } catch {
    return false;
  }
  return built >= Math.max(newestSource(path.join(root, "guardian")), newestSource(path.join(root, "typechain-types")));
}

if (!fs.existsSync(sourceCli) || distIsCurrent()) {
  // An installed package (no sources) or a current build.
  if (!fs.existsSync(compiled)) {
    process.stderr.write(`error: ${compiled} is missing; run \`npm run build\` (npm ci runs it)\n`);
    process.exit(1);
  }
  require(compiled);
} else {
  let tsx;
  try {
    tsx = require.resolve("tsx/cjs");
  } catch {
    process.stderr.write("error: dist/ is missing or older than guardian/; run `npm run build`\n");
    process.exit(1);
  }
  require(tsx);
  require(sourceCli);
}
