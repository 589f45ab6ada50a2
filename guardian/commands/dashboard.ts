import type { Command } from "commander";
import { isLoopback, startDashboard } from "../dashboard/server";
import { openIncidents } from "./incident-context";
import { UsageError } from "./usage-error";
import { configOption } from "./config-option";

function portArg(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new UsageError(`--port: expected a port number 0-65535, got "${value}"`);
  return Number(value);
}

export function register(program: Command): void {
  program
    .command("dashboard")
    .description("serve a read-only page of the incidents, the switches' state and expiry, findings and governance decisions (127.0.0.1 by default)")
    .addOption(configOption("guardian YAML config whose store and chains the dashboard reads"))
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on (0 picks a free one)", "8788")
    .option("--allow-remote", "allow a non-loopback --host: anyone who can reach it can read every incident")
    .option("--refresh <seconds>", "how often the page reloads itself", "15")
    .action(async (o: { config: string; host: string; port: string; allowRemote?: boolean; refresh: string }) => {
      const config = o.config;
      const port = portArg(o.port);
      if (!isLoopback(o.host) && !o.allowRemote) {
        throw new UsageError(`--host ${o.host} is not a loopback address: the dashboard shows every incident to whoever reaches it; add --allow-remote to serve it there anyway`);
      }
      if (!/^\d+$/.test(o.refresh) || Number(o.refresh) < 5) throw new UsageError(`--refresh: expected whole seconds >= 5, got "${o.refresh}"`);
      const ctx = await openIncidents(config);
      if (!isLoopback(o.host)) process.stderr.write(`warning: serving on ${o.host}, beyond this machine: the page has no login; put it behind your own access control\n`);
      const dashboard = await startDashboard(ctx, { host: o.host, port, refreshSeconds: Number(o.refresh) }).catch(async (err: NodeJS.ErrnoException) => {
        await ctx.close();
        throw err.code === "EADDRINUSE" || err.code === "EADDRNOTAVAIL" || err.code === "EACCES" ? new UsageError(`--host ${o.host} --port ${port}: cannot listen (${err.code})`) : err;
      });
      process.stdout.write(`dashboard on ${dashboard.url} (read-only; Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await dashboard.close();
      await ctx.close();
    });
}
