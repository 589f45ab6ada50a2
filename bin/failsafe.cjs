#!/usr/bin/env node
// The `failsafe` command runs the TypeScript sources directly through tsx (esbuild), so there is no
// separate build step to forget. Contract typings come from `hardhat compile`, which `npm ci` runs.
"use strict";
require("tsx/cjs");
require("../guardian/cli.ts");
