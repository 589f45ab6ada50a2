#!/usr/bin/env node
// forge cannot download solc on these machines, so it runs this shim over the solc npm package
// (the same compiler Hardhat uses). forge calls `--version`, then `--standard-json` with input on stdin.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const solc = require("solc");

if (process.argv.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

const root = path.resolve(__dirname, "..");
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const input = Buffer.concat(chunks).toString("utf8");
  const findImports = (importPath) => {
    for (const base of [root, path.join(root, "node_modules")]) {
      const candidate = path.resolve(base, importPath);
      if (candidate.startsWith(root) && fs.existsSync(candidate)) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found: ${importPath}` };
  };
  process.stdout.write(solc.compile(input, { import: findImports }));
});
