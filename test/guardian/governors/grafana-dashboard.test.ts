import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { TripMetrics } from "../../../guardian/decisions/trip-metrics";
import { AlertMetrics } from "../../../guardian/notifiers/alert-metrics";
import { GuardianMetrics } from "../../../guardian/ops/metrics";

const DASHBOARD = path.resolve(__dirname, "../../../docs/grafana-dashboard.json");

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

/**
 * docs/grafana-dashboard.json against the metrics the guardian registers: every series a panel queries
 * exists with the labels it groups by, so the shipped dashboard cannot drift from the code silently.
 */
describe("Grafana dashboard for the guardian's metrics", () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as { panels: Panel[]; templating: { list: { query: { query: string } }[] } };
  const metrics = new GuardianMetrics({ defaultMetrics: false });
  new TripMetrics(metrics.registry);
  new AlertMetrics(metrics.registry);
  const registered = new Map(metrics.registry.getMetricsAsArray().map((m) => [m.name, m]));

  it("queries only metrics the guardian exports, by labels they have", async () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).to.be.greaterThan(15);
    const json = await metrics.registry.getMetricsAsJSON();
    const labelsOf = new Map<string, string[]>();
    for (const m of metrics.registry.getMetricsAsArray()) labelsOf.set(m.name, ((m as unknown as { labelNames: string[] }).labelNames ?? []).concat(["le"]));
    expect(json.length).to.equal(registered.size);
    for (const expr of exprs) {
      const names = [...expr.matchAll(/\b(failsafe_[a-z_]+)/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, ""));
      expect(names.length, expr).to.be.greaterThan(0);
      for (const name of names) {
        expect(registered.has(name), `${name} in "${expr}"`).to.equal(true);
        for (const [, labels] of expr.matchAll(/by \(([^)]+)\)/g)) {
          for (const label of labels.split(",").map((l) => l.trim())) expect(labelsOf.get(name), `${label} of ${name}`).to.include(label);
        }
      }
    }
    // Every exported metric has a panel.
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(failsafe_[a-z_]+)/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, ""))));
    expect([...registered.keys()].filter((n) => !used.has(n))).to.deep.equal([]);
  });

  it("lays the panels out without overlap inside Grafana's 24 columns", () => {
    const boxes = dashboard.panels.map((p) => p.gridPos);
    for (const b of boxes) expect(b.x + b.w).to.be.at.most(24);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${dashboard.panels[i].title} / ${dashboard.panels[j].title}`).to.equal(false);
      }
    }
  });
});
