import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";

/**
 * Runs the `console` blocks of a guide the way a reader would type them, so the guide cannot drift from what the
 * commands do. In a block, `$ cmd` is a command and the lines after it, up to the next command, are its expected
 * output: every expected line must appear in what the command printed (white space folded), except lines holding
 * `…`, which stand for output that differs from run to run (times, hashes). A command ending in ` &` starts in the
 * background (as in a second terminal) and is stopped when the guide is done; `$ echo $?` checks the previous
 * command's exit status against the next line. Any other command must exit 0.
 */
export interface DocStep {
  command: string;
  expected: string[];
  background: boolean;
  block: number;
}

export function parseDocSteps(markdown: string): DocStep[] {
  const steps: DocStep[] = [];
  let block = 0;
  let inConsole = false;
  for (const line of markdown.split("\n")) {
    if (/^```console\s*$/.test(line)) {
      inConsole = true;
      block++;
      continue;
    }
    if (inConsole && /^```\s*$/.test(line)) {
      inConsole = false;
      continue;
    }
    if (!inConsole) continue;
    const command = line.match(/^\$ (.*)$/);
    if (command) {
      const text = command[1].trim();
      const background = text.endsWith(" &");
      steps.push({ command: background ? text.slice(0, -2).trim() : text, expected: [], background, block });
    } else if (steps.length > 0 && line.trim() !== "") {
      steps[steps.length - 1].expected.push(line);
    }
  }
  return steps;
}

export interface StepResult {
  step: DocStep;
  status: number | null;
  output: string;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Text replacements applied to commands and expected lines (e.g. the documented port -> the test's port). */
  replace: [string, string][];
  timeoutMs: number;
  /** Called after each foreground command, e.g. to wait until a background guardian has caught up. */
  afterStep?: (result: StepResult) => Promise<void>;
}

const fold = (s: string) => s.replace(/\s+/g, " ").trim();

export function missingLines(expected: string[], output: string): string[] {
  const haystack = fold(output);
  return expected.filter((line) => !line.includes("…")).map(fold).filter((line) => line && !haystack.includes(line));
}

export async function runDocSteps(steps: DocStep[], options: RunOptions): Promise<{ results: StepResult[]; background: ChildProcess[] }> {
  const apply = (s: string) => options.replace.reduce((acc, [from, to]) => acc.split(from).join(to), s);
  const results: StepResult[] = [];
  const background: ChildProcess[] = [];
  let lastStatus: number | null = 0;
  for (const raw of steps) {
    const step = { ...raw, command: apply(raw.command), expected: raw.expected.map(apply) };
    if (step.command === "echo $?") {
      const want = Number(step.expected[0]);
      if (lastStatus !== want) throw new Error(`block ${step.block}: the previous command exited ${lastStatus}, the guide says ${want}`);
      continue;
    }
    const child = spawn("bash", ["-c", step.command], { cwd: options.cwd, env: options.env, detached: true });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    if (step.background) {
      background.push(child);
      results.push({ step, status: null, get output() { return output; } } as StepResult);
      continue;
    }
    const status = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ }
      }, options.timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    lastStatus = status;
    const result = { step, status, output };
    results.push(result);
    const expectsFailure = steps[steps.indexOf(raw) + 1]?.command === "echo $?";
    if (status !== 0 && !expectsFailure) {
      throw new Error(`block ${step.block}: \`${step.command}\` exited ${status}:\n${output}`);
    }
    const missing = missingLines(step.expected, output);
    if (missing.length) {
      throw new Error(`block ${step.block}: \`${step.command}\` did not print:\n  ${missing.join("\n  ")}\nit printed:\n${output}`);
    }
    await options.afterStep?.(result);
  }
  return { results, background };
}

export function stopAll(children: ChildProcess[]): Promise<void[]> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("close", () => resolve());
          try { process.kill(-child.pid!, "SIGTERM"); } catch { return resolve(); }
          setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, 10_000).unref();
        }),
    ),
  );
}

export function readSteps(path: string): DocStep[] {
  return parseDocSteps(readFileSync(path, "utf8"));
}
