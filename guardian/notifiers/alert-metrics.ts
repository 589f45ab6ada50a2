import { Counter, type Registry } from "prom-client";

/** The alert stage's Prometheus counters, on the guardian's registry. */
export class AlertMetrics {
  readonly alerts: Counter<"kind" | "severity">;
  readonly attempts: Counter<"notifier" | "outcome">;

  constructor(registry: Registry) {
    this.alerts = new Counter({ name: "failsafe_alerts_total", help: "Alerts raised, by kind and severity", labelNames: ["kind", "severity"], registers: [registry] });
    this.attempts = new Counter({
      name: "failsafe_alert_delivery_attempts_total",
      help: "Delivery attempts per notifier: delivered, retried (failed, will retry) or failed (gave up)",
      labelNames: ["notifier", "outcome"],
      registers: [registry],
    });
  }
}
