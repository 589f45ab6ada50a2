#!/usr/bin/env node
// forge cannot download solc on these machines, so it runs this shim over the solc npm package
// (the same compiler Hardhat uses). forge calls `--version`, then `--standard-json` with input on stdin.
// forge passes every source in the input; the import callback is only a fallback, and reads files from
// the project forge runs in (its working directory) or from this repository, never outside them.
// Any forge project can point `solc = "<path to this file>"` at it (the package tests' consumer does).
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const solc = require("solc");

if (process.argv.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

const roots = [...new Set([process.cwd(), path.resolve(__dirname, "..")])];
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const input = Buffer.concat(chunks).toString("utf8");
  const findImports = (importPath) => {
    for (const root of roots) {
      for (const base of [root, path.join(root, "node_modules")]) {
        const candidate = path.resolve(base, importPath);
        if (candidate.startsWith(root + path.sep) && fs.existsSync(candidate)) {
          return { contents: fs.readFileSync(candidate, "utf8") };
        }
      }
    }
    return { error: `File not found: ${importPath}` };
  };
  process.stdout.write(solc.compile(input, { import: findImports }));
});
