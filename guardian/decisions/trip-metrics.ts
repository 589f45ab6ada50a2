import { Counter, Histogram, type Registry } from "prom-client";
import type { TripOutcome } from "../responders/types";

/** Prometheus metrics of the trip path, on the guardian's registry. */
export class TripMetrics {
  readonly trips: Counter<"chain" | "status" | "via">;
  readonly submissions: Counter<"chain">;
  readonly detectToInclude: Histogram<"chain">;

  constructor(registry: Registry) {
    // Get-or-create: `failsafe trip` and `failsafe guard` may build the trip path on one registry.
    const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
    this.trips =
      existing("failsafe_trips_total") ??
      new Counter({ name: "failsafe_trips_total", help: "Trip decisions by outcome (included, already-tripped, dry-run, failed, aborted)", labelNames: ["chain", "status", "via"], registers: [registry] });
    this.submissions =
      existing("failsafe_trip_submissions_total") ??
      new Counter({ name: "failsafe_trip_submissions_total", help: "Trip transactions signed and sent (first sends and fee-bumped resubmissions)", labelNames: ["chain"], registers: [registry] });
    this.detectToInclude =
      existing("failsafe_trip_detect_to_include_seconds") ??
      new Histogram({
        name: "failsafe_trip_detect_to_include_seconds",
        help: "From the finding reaching the trip path to the trip's inclusion",
        labelNames: ["chain"],
        buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120],
        registers: [registry],
      });
  }

  record(chainId: number, outcome: TripOutcome): void {
    const chain = String(chainId);
    this.trips.inc({ chain, status: outcome.status, via: outcome.via ?? "none" });
    this.submissions.inc({ chain }, outcome.timeline.filter((e) => e.step === "sent" || e.step === "resubmitted").length);
    const included = outcome.timeline.find((e) => e.step === "included");
    if (included) this.detectToInclude.observe({ chain }, included.ms / 1000);
  }
}
