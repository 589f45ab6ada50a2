import type { Command } from "commander";
import path from "node:path";
import { HttpRpcClient } from "../chain/rpc";
import { exportFromStore, renderExport, writeExport } from "../ledger/audit-export";
import { AuditExportError, readManifest, verifyExport } from "../ledger/audit-verify";
import { asUsage, EXIT_CHECK_FAILED, openReporting } from "./report";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";
import { escapeTerminal } from "../reports/governor-format";
import { startProgress, type Progress } from "../ops/progress";

export function register(program: Command): void {
  const audit = program.command("audit").description("exports auditors can verify against any node without trusting us");

  audit
    .command("export")
    .description("write the data behind the reports for a token or account (CSV + JSON) with a manifest of SHA-256 hashes and block anchors")
    .addOption(configOption("guardian YAML config with a reporting section"))
    .requiredOption("--contract <contract>", "configured token or account name, or an address")
    .requiredOption("--to <dir>", "directory to write (created if missing; files are overwritten)")
    .option("--block <n>", "last block of the export (default: the head)")
    .option("--no-sync", "export the index as it is, without reading new blocks first")
    .action(async (o: { config: string; contract: string; to: string; block?: string; sync: boolean }) => {
      const opened = await openReporting(o.config, { sync: o.sync });
      try {
        const data = await asUsage(() => exportFromStore(opened.deps, o));
        const files = renderExport(data);
        writeExport(o.to, files);
        const { from, to } = data.subject;
        const manifest = JSON.parse(files.get("manifest.json")!) as { files: { name: string; sha256: string }[] };
        process.stdout.write(
          `exported ${data.subject.kind} ${data.subject.name} (${data.subject.address}) to ${path.resolve(o.to)}\n` +
            `  from block ${from.number} (${from.hash})\n  to   block ${to.number} (${to.hash})\n` +
            `  ${data.movements.length} movements, ${data.balances.length} balances\n` +
            manifest.files.map((f) => `  ${f.sha256}  ${f.name}\n`).join(""),
        );
      } finally {
        opened.close();
      }
    });

  audit
    .command("verify")
    .description("recompute an export from a node with the verifier's own decoding, derive its scope from the chain, compare final balances at the anchor; exit 3 on any failed check")
    .argument("<dir>", "audit export directory")
    .requiredOption("--rpc <url>", "JSON-RPC URL of any node of the chain (archive with debug_traceBlockByHash for ether)")
    .action(async (dir: string, o: { rpc: string }) => {
      if (!/^https?:\/\/\S+$/i.test(o.rpc) || !URL.canParse(o.rpc)) throw new UsageError(`--rpc: "${o.rpc}" is not an http(s) URL`);
      let manifest;
      try {
        manifest = readManifest(dir);
      } catch (err) {
        if (err instanceof AuditExportError) throw new UsageError(err.message);
        throw err;
      }
      const rpc = new HttpRpcClient({ chainId: manifest.chainId, urls: [o.rpc], maxAttempts: 3 });
      // Re-tracing every block for ether is the long part: a bar on a terminal while it runs.
      let progress: Progress | undefined;
      const findings = await verifyExport(dir, rpc, {
        onProgress: (done, total) => {
          progress ??= startProgress("re-tracing blocks", total);
          progress.update(done);
        },
      }).finally(() => progress?.stop());
      for (const f of findings) process.stdout.write(`${f.ok ? "ok      " : "MISMATCH"}  ${escapeTerminal(f.what)}${f.detail ? `: ${escapeTerminal(f.detail)}` : ""}\n`);
      const failed = findings.filter((f) => !f.ok).length;
      process.stdout.write(failed === 0 ? `verified: ${findings.length} checks passed\n` : `NOT verified: ${failed} of ${findings.length} checks failed\n`);
      if (failed > 0) process.exitCode = EXIT_CHECK_FAILED;
    });
}
