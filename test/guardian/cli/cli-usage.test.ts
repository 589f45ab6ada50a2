import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { COMMAND_NAMES } from "../../../guardian/cli";

const ROOT = path.resolve(__dirname, "../../..");
const BIN = path.join(ROOT, "bin/failsafe.cjs");
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** The real `failsafe` binary, as a user runs it. */
async function failsafe(...input: (string | Record<string, string>)[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = input.filter((a): a is string => typeof a === "string");
  const extraEnv = input.find((a): a is Record<string, string> => typeof a !== "string") ?? {};
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, FAILSAFE_DEBUG: "", ...extraEnv } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function noStack(text: string): void {
  expect(text).to.not.match(/\n\s+at /);
  expect(text).to.not.match(/node:internal|\.[jt]s:\d+:\d+/);
}

describe("failsafe CLI: version, help and usage errors (exit 2)", function () {
  this.timeout(60_000);

  it("--version and -V print the package version and exit 0", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await failsafe(flag);
      expect(r.code, flag).to.equal(0);
      expect(r.stdout, flag).to.equal(`${VERSION}\n`);
      expect(r.stderr, flag).to.equal("");
    }
  });

  it("--help lists every command and exits 0", async () => {
    const r = await failsafe("--help");
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: failsafe \[options\] \[command\]/);
    for (const name of COMMAND_NAMES) expect(r.stdout).to.match(new RegExp(`^  ${name} `, "m"));
    expect(r.stdout).to.contain("-V, --version");
  });

  it("each listed command loads on demand and shows its own help", async () => {
    for (const name of COMMAND_NAMES) {
      const r = await failsafe(name, "--help");
      expect(r.code, `${name} --help: ${r.stderr}`).to.equal(0);
      expect(r.stdout, name).to.match(new RegExp(`^Usage: failsafe ${name} `));
      const viaHelp = await failsafe("help", name);
      expect(viaHelp.stdout, `help ${name}`).to.equal(r.stdout);
    }
  });

  it("an unknown command exits 2, names it, and suggests the closest one", async () => {
    const bogus = await failsafe("bogus");
    expect(bogus.code).to.equal(2);
    expect(bogus.stdout).to.equal("");
    expect(bogus.stderr).to.match(/^error: unknown command 'bogus'\n/);
    noStack(bogus.stderr);

    const typo = await failsafe("gaurd", "--config", "x.yaml");
    expect(typo.code).to.equal(2);
    expect(typo.stderr).to.contain("error: unknown command 'gaurd'");
    expect(typo.stderr).to.contain("(Did you mean guard?)");

    const sub = await failsafe("config", "chekc", "x.yaml");
    expect(sub.code).to.equal(2);
    expect(sub.stderr).to.contain("error: unknown command 'chekc'");
    noStack(sub.stderr);
  });

  it("an unknown option exits 2 with the option named", async () => {
    const root = await failsafe("--bogus");
    expect(root.code).to.equal(2);
    expect(root.stderr).to.match(/^error: unknown option '--bogus'\n/);
    noStack(root.stderr);

    const sub = await failsafe("config", "check", "--bogus", "guardian/config/failsafe.example.yaml");
    expect(sub.code).to.equal(2);
    expect(sub.stderr).to.match(/^error: unknown option '--bogus'\n/);
    noStack(sub.stderr);
  });

  it("a missing argument, option or option value exits 2 with what is missing", async () => {
    for (const [args, message] of [
      [["config", "check"], "error: missing required argument 'file'"],
      [["guard", "--config"], "error: option '-c, --config <file>' argument missing"],
    ] as [string[], string][]) {
      const r = await failsafe(...args);
      expect(r.code, args.join(" ")).to.equal(2);
      expect(r.stdout, args.join(" ")).to.equal("");
      expect(r.stderr, args.join(" ")).to.contain(message);
      noStack(r.stderr);
    }
  });

  it("finds the config through FAILSAFE_CONFIG, else ./failsafe.yaml, and names the file it looked for", async () => {
    const missing = path.join(ROOT, "no-such-dir", "guardian.yaml");
    const r = await failsafe("guard", { FAILSAFE_CONFIG: missing });
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain(`${missing}: file not found`);
    expect(r.stderr).to.contain("file not found (pass --config <file> or set FAILSAFE_CONFIG; the default is ./failsafe.yaml)");
    noStack(r.stderr);
    const ok = await failsafe("config", "check", "guardian/config/failsafe.example.yaml");
    expect(ok.code, ok.stderr).to.equal(0);
    const viaEnv = await failsafe("replay", "--block", "0", "--format", "xml", { FAILSAFE_CONFIG: "guardian/config/failsafe.example.yaml" });
    // The config was found (no "file not found"); the bad --format is what is reported.
    expect(viaEnv.stderr).to.match(/--format: expected json or table/);
  });

  it("no command at all exits 2 and shows the usage on stderr", async () => {
    const r = await failsafe();
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal("");
    expect(r.stderr).to.match(/^Usage: failsafe \[options\] \[command\]/);
  });
});
