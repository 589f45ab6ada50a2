// The ledger's read-only page. Every piece of text from the API (token names and symbols are chosen by
// token deployers) is set with textContent or as an SVG text node's data, never parsed as HTML.
"use strict";
const SVG = "http://www.w3.org/2000/svg";
const params = new URLSearchParams(location.search);

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

async function api(path, query) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v) url.searchParams.set(k, v);
  const res = await fetch(url);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

const units = (cell) => (cell && typeof cell === "object" ? Number(cell.amount) / 10 ** Math.min(cell.decimals, 30) : Number(cell) || 0);

function fail(id, err) {
  const box = document.getElementById(id);
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = err.message;
  box.replaceChildren(p);
}

function bars(id, labels, series, options) {
  const w = 600, h = 220, pad = 30;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": options.label });
  const max = Math.max(1e-18, ...series.flatMap((s) => s.values), options.claim || 0);
  const n = labels.length || 1;
  const bw = (w - pad * 2) / n / series.length;
  svg.append(el("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: "axis" }));
  series.forEach((s, j) =>
    s.values.forEach((v, i) => {
      const bh = ((h - pad * 2) * v) / max;
      const rect = el("rect", { x: pad + (i * series.length + j) * bw, y: h - pad - bh, width: Math.max(1, bw - 2), height: bh, class: s.cls });
      rect.append(el("title", {}, `${labels[i]}: ${s.name} ${v}`));
      svg.append(rect);
    }),
  );
  labels.forEach((l, i) => {
    if (n <= 12 || i % Math.ceil(n / 12) === 0) svg.append(el("text", { x: pad + i * series.length * bw, y: h - pad + 12 }, String(l).slice(0, 12)));
  });
  if (options.claim) {
    const y = h - pad - ((h - pad * 2) * options.claim) / max;
    svg.append(el("line", { x1: pad, y1: y, x2: w - pad, y2: y, class: "claim" }), el("text", { x: w - pad - 80, y: y - 3 }, `claimed ${(options.claim * 100).toFixed(2)}%`));
  }
  svg.append(el("text", { x: pad, y: 12 }, options.label));
  document.getElementById(id).replaceChildren(svg);
}

function line(id, points, label) {
  const w = 600, h = 220, pad = 30;
  const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": label });
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  // A balance moves little against its size: the axis spans the balance's own range, labelled.
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const px = (x) => pad + ((w - pad * 2) * (x - x0)) / Math.max(1, x1 - x0);
  const py = (y) => h - pad - ((h - pad * 2) * (y - y0)) / Math.max(1e-18, y1 - y0);
  svg.append(el("line", { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, class: "axis" }));
  svg.append(el("polyline", { points: points.map(([x, y]) => `${px(x)},${py(y)}`).join(" "), class: "line" }));
  svg.append(el("text", { x: pad, y: 12 }, label), el("text", { x: pad, y: h - pad + 12 }, `block ${x0}`), el("text", { x: w - pad - 60, y: h - pad + 12 }, `block ${x1}`), el("text", { x: w - pad - 120, y: 12 }, `${y0.toPrecision(6)} to ${y1.toPrecision(6)}`));
  document.getElementById(id).replaceChildren(svg);
}

function subject(id, report, extra) {
  document.getElementById(id).textContent = `${report.title} · block ${report.block.number} ${report.block.hash.slice(0, 12)}…${extra ? " · " + extra : ""}`;
}

async function main() {
  const status = await api("/api/status");
  const config = await api("/api/config");
  document.getElementById("status").textContent = status.block
    ? `chain ${status.chainId}, indexed to block ${status.block.number} (${status.block.hash})` + (status.unverifiable.length ? ` · ${status.unverifiable.length} token(s) unverifiable` : "")
    : "the index is empty";
  const token = params.get("token") || config.tokens[0];
  const account = params.get("account") || config.accounts[0];
  const contract = params.get("contract") || config.games[0] || config.accounts[0];
  const game = params.get("game") || config.games[0];
  const tasks = [];
  if (token)
    tasks.push(
      api("/api/cap-table", { token, top: "20" }).then((r) => {
        const rows = r.sections[0].rows;
        subject("holders-subject", r, `symbol ${r.summary.symbol}`);
        bars("holders", rows.map((x) => x.holder.slice(0, 8)), [{ name: "balance", cls: "bar", values: rows.map((x) => units(x.balance)) }], { label: `top ${rows.length} holders` });
      }, (e) => fail("holders", e)),
    );
  if (account)
    tasks.push(
      api("/api/statement", { account }).then((r) => {
        const section = r.sections[0];
        subject("balance-subject", r, section ? section.title : "");
        if (!section) return;
        line("balance", section.rows.filter((x) => typeof x.block === "number").map((x) => [x.block, units(x.balance)]), `${section.title} balance`);
      }, (e) => fail("balance", e)),
    );
  if (contract)
    tasks.push(
      api("/api/flows-over-time", { contract, slices: "12" }).then((r) => {
        const rows = r.sections[0].rows;
        const asset = rows.length ? rows[0].asset : "";
        const mine = rows.filter((x) => x.asset === asset);
        subject("flows-subject", r, asset);
        bars("flows", mine.map((x) => x["from block"]), [
          { name: "in", cls: "bar-in", values: mine.map((x) => units(x.in)) },
          { name: "out", cls: "bar-out", values: mine.map((x) => units(x.out)) },
        ], { label: `${asset} in / out` });
      }, (e) => fail("flows", e)),
    );
  if (game)
    tasks.push(
      api("/api/payouts", { game }).then((r) => {
        const rows = r.sections[0].rows;
        const claim = Number(String(r.summary["claimed return to player"]).split("%")[0]) / 100;
        subject("payouts-subject", r, `realised ${r.summary["realised return to player"]}, 95% interval ${r.summary["95% interval"]}`);
        if (String(r.summary.verdict).startsWith("PAYS LESS")) document.getElementById("payouts-subject").classList.add("flagged");
        bars("payouts", rows.map((x) => x["from block"]), [{ name: "return", cls: "bar", values: rows.map((x) => parseFloat(x["return to player"]) / 100 || 0) }], { label: "return to player", claim });
      }, (e) => fail("payouts", e)),
    );
  await Promise.all(tasks);
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  document.getElementById("status").textContent = `error: ${e.message}`;
  document.body.dataset.ready = "true";
});
