/* async-search dashboard: one page per experiment and a comparison view.
 * Polls the server's read-only API every POLL_MS and asks only for the rows
 * added since the last answer (results.csv, intermediate.csv); plots with
 * Plotly (served locally). Lower objective is better; with several objectives
 * (results.csv's o: columns) every one is minimised and "best" is on the first. */
"use strict";

const POLL_MS = 2000;
const WEBGL_ABOVE_POINTS = 5000;  // more points than this are drawn with WebGL (scattergl)
const TABLE_MAX_ROWS = 500;   // the table shows this many of the matching rows
const FAILURES_SHOWN = 20;    // the last failed/timed-out evaluations listed
const COLORS = {ok: "#1f77b4", failed: "#d62728", timeout: "#ff7f0e", stopped: "#9467bd",
                best: "#2ca02c", other: "#7f7f7f", front: "#d62728"};
const PLOT_CONFIG = {displaylogo: false, responsive: true,
                     toImageButtonOptions: {format: "png", scale: 2}};
const TOKEN = new URLSearchParams(location.search).get("token");

/* Plotly (8 MB as Debian ships it) loads while the first rows are read, and the
 * text panels (state, counts, the best job, failures, the table) are drawn
 * without waiting for it; the plots follow once it has loaded. */
const plotlyReady = new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = withToken("/static/plotly.js");
  script.onload = resolve;
  script.onerror = () => reject(new Error("plotly.js did not load"));
  document.head.append(script);
});

function withToken(path) {
  if (!TOKEN) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(TOKEN);
}

async function api(path) {
  const answer = await fetch(withToken(path), {credentials: "same-origin", cache: "no-store"});
  if (!answer.ok) throw new Error(path + ": " + answer.status);
  return answer.json();
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "";
  if (typeof x !== "number") return String(x);
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 1e5 || Math.abs(x) < 1e-3 ? x.toPrecision(6) : String(+x.toPrecision(6));
}

function num(text) {
  if (text === "" || text === undefined) return NaN;
  const x = Number(text);
  return Number.isFinite(x) ? x : NaN;
}

/* ------------------------------------------------------------------ downloads */

function csvText(columns, rows) {
  const cell = (v) => {
    const s = v === null || v === undefined || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [columns, ...rows].map((r) => r.map(cell).join(",")).join("\n") + "\n";
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], {type: "text/csv"}));
  const a = el("a", {href: url, download: name});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/* A panel: a titled section with CSV (of what is shown) and PNG buttons. */
function panel(id, title, opts) {
  const tools = el("span", {class: "tools"});
  const body = el("div", {class: opts && opts.plot ? "plot" : "body", id: "plot-" + id});
  const section = el("section", {class: "panel" + (opts && opts.wide ? " wide" : ""), id: "panel-" + id},
                     el("h2", {}, el("span", {text: title}), tools), body);
  section.shown = {columns: [], rows: []};
  tools.append(el("button", {text: "CSV", title: "download what is shown as CSV", class: "csv",
                             onclick: () => download(id + ".csv", csvText(section.shown.columns, section.shown.rows))}));
  if (opts && opts.plot) {
    tools.append(el("button", {text: "PNG", title: "download the figure as PNG", class: "png",
                               onclick: () => Plotly.downloadImage(body, {format: "png", filename: id, scale: 2})}));
  }
  return section;
}

function plot(section, traces, layout) {
  const base = {margin: {l: 60, r: 20, t: 10, b: 45}, hovermode: "closest",
                legend: {orientation: "h", y: -0.2}, uirevision: "keep"};
  Plotly.react(section.querySelector(".plot"), traces, Object.assign(base, layout), PLOT_CONFIG);
}

/* ------------------------------------------------------------------ experiment data */

class Experiment {
  constructor(index) {
    this.index = index;
    this.info = null;
    this.header = [];
    this.rows = [];       // typed rows, in results.csv order
    this.gen = 0; this.next = 0;
    this.curves = new Map();  // job id -> [[step, value], ...]
    this.cgen = 0; this.cnext = 0;
    this.importance = null;
    this.params = [];
    this.objectives = [];  // several objectives: their names (o: columns), else empty
    this.front = null;     // /front's answer (several objectives)
  }

  typed(record, n) {
    const at = this.at;
    const row = {n: n, job: record[at.job_id], obj: num(record[at.objective]), status: record[at.status],
                 worker: num(record[at.worker]), submit: num(record[at["m:timestamp_submit"]]),
                 start: num(record[at["m:timestamp_start"]]), gather: num(record[at["m:timestamp_gather"]]),
                 duration: num(record[at.duration]), params: {}, raw: record};
    for (const p of this.params) row.params[p] = record[at["p:" + p]];
    row.usable = row.status === "ok" && Number.isFinite(row.obj);
    row.objs = this.objectives.map((o) => num(record[at["o:" + o]]));
    row.allUsable = row.usable && row.objs.every(Number.isFinite);
    return row;
  }

  /* Fetches what is new; returns whether anything changed. */
  async update() {
    const base = "/api/exp/" + this.index + "/";
    const [info, res] = await Promise.all([
      api(base + "info"),
      api(base + "results?gen=" + this.gen + "&since=" + this.next)]);
    // the curves are asked for once the rows are in (the server reads one at a time)
    const curves = api(base + "curves?gen=" + this.cgen + "&since=" + this.cnext);
    curves.catch(() => {});  // awaited by updateCurves
    this.curvesAnswer = curves;
    const stateChanged = !this.info || info.state !== this.info.state;
    this.info = info;
    if (res.reset) { this.rows = []; }
    if (res.header.length && (res.reset || !this.header.length)) {
      this.header = res.header;
      this.at = Object.fromEntries(res.header.map((name, i) => [name, i]));
      this.params = res.header.filter((c) => c.startsWith("p:")).map((c) => c.slice(2));
      this.objectives = res.header.filter((c) => c.startsWith("o:")).map((c) => c.slice(2));
    }
    for (const record of res.rows) this.rows.push(this.typed(record, this.rows.length + 1));
    this.gen = res.generation; this.next = res.next;
    const changed = res.rows.length > 0 || res.reset;
    this.importanceDue = this.importanceDue || changed;
    this.frontDue = this.frontDue || changed;
    return changed || stateChanged;
  }

  /* The learning curves asked for with the rows (update): read after the text
   * panels are drawn, so that a long intermediate.csv never delays them.
   * Returns whether anything changed. */
  async updateCurves() {
    const cur = await this.curvesAnswer;
    if (cur.reset) this.curves = new Map();
    for (const [job, step, value] of cur.rows) {
      if (!this.curves.has(job)) this.curves.set(job, []);
      this.curves.get(job).push([num(step), num(value)]);
    }
    this.cgen = cur.generation; this.cnext = cur.next;
    return cur.rows.length > 0 || cur.reset;
  }

  /* Several objectives: the front and its hypervolume's evolution (computed on
   * the server), fetched like the importance; asked again while the server's
   * answer covers fewer rows than the page has. Returns whether it is new. */
  async updateFront() {
    if (this.objectives.length < 2) return false;
    const behind = this.front && this.front.rows < this.rows.length;
    if (!this.frontDue && !behind && this.front) return false;
    this.frontDue = false;
    const front = await api("/api/exp/" + this.index + "/front");
    const same = this.front && JSON.stringify(front) === JSON.stringify(this.front);
    this.front = front;
    return !same;
  }

  /* What "objective" means on this page: the first objective's name when there are several. */
  objectiveName() {
    return this.objectives.length > 1 ? this.objectives[0] + " (the first objective)" : "objective";
  }

  /* The importance (a forest fit on the server): fetched after the other
   * panels are drawn, so that it never delays them. Returns whether it is new. */
  async updateImportance() {
    if (!this.importanceDue && this.importance) return false;
    this.importanceDue = false;
    this.importance = await api("/api/exp/" + this.index + "/importance");
    return true;
  }

  best() {
    let best = null;
    for (const r of this.rows) if (r.usable && (best === null || r.obj < best.obj)) best = r;
    return best;
  }

  /* The rows where the best-so-far improved, and the best-so-far after each row. */
  bestSoFar() {
    const steps = []; let best = Infinity;
    for (const r of this.rows) {
      if (r.usable && r.obj < best) best = r.obj;
      steps.push(Number.isFinite(best) ? best : null);
    }
    return steps;
  }
}

/* ------------------------------------------------------------------ experiment panels */

function renderSummary(section, exp) {
  const info = exp.info, body = section.querySelector(".body");
  const config = info.config || {};
  const settings = el("table", {class: "kv"});
  for (const [key, value] of Object.entries(config)) {
    settings.append(el("tr", {}, el("td", {text: key}),
                       el("td", {text: typeof value === "object" ? JSON.stringify(value) : String(value)})));
  }
  body.replaceChildren(
    el("div", {}, el("span", {class: "big", id: "exp-name", style: "color:#222", text: info.name}), " ",
       el("span", {class: "badge state-" + info.state, id: "exp-state", text: info.state}), " ",
       el("span", {class: "muted", text: info.detail})),
    el("div", {class: "muted", text: info.path}),
    el("details", {}, el("summary", {text: "settings (config.json)"}), el("div", {class: "scroll"}, settings)));
  section.shown = {columns: ["setting", "value"],
                   rows: Object.entries(config).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v])};
}

function renderCounts(section, exp) {
  const counts = {ok: 0, failed: 0, timeout: 0, stopped: 0};
  for (const r of exp.rows) counts[r.status] = (counts[r.status] || 0) + 1;
  const rows = Object.entries(counts);
  rows.push(["total", exp.rows.length]);
  const table = el("table", {id: "counts"});
  for (const [status, n] of rows) {
    table.append(el("tr", {}, el("td", {class: "st-" + status, text: status}),
                    el("td", {class: "num", id: "count-" + status, text: String(n)})));
  }
  section.querySelector(".body").replaceChildren(table);
  section.shown = {columns: ["status", "rows"], rows: rows};
}

function renderBest(section, exp) {
  const best = exp.best(), body = section.querySelector(".body");
  section.querySelector("h2 span").textContent = exp.objectives.length > 1
    ? "Best on the first objective, " + exp.objectives[0] + " (of " + exp.objectives.length + " objectives)"
    : "Best objective";
  if (!best) {
    body.replaceChildren(el("p", {class: "muted", id: "best-none", text: "no successful evaluation yet"}));
    section.shown = {columns: [], rows: []};
    return;
  }
  const params = el("table", {class: "kv"});
  for (const p of exp.params) params.append(el("tr", {}, el("td", {text: p}), el("td", {text: best.params[p]})));
  body.replaceChildren(
    el("div", {}, el("span", {class: "big", id: "best-objective", text: fmt(best.obj)}),
       " job ", el("b", {id: "best-job", text: best.job}),
       el("span", {class: "muted", text: " (evaluation " + best.n + " of " + exp.rows.length +
                   ", worker " + fmt(best.worker) + ", " + fmt(best.gather) + " s)"})),
    params);
  section.shown = {columns: ["job_id", "objective", ...exp.params],
                   rows: [[best.job, best.obj, ...exp.params.map((p) => best.params[p])]]};
}

function renderBestPlot(section, exp, byTime) {
  const steps = exp.bestSoFar();
  const xs = exp.rows.map((r) => (byTime ? r.gather : r.n));
  const ok = exp.rows.filter((r) => r.usable);
  const traces = [
    {x: ok.map((r) => (byTime ? r.gather : r.n)), y: ok.map((r) => r.obj), text: ok.map((r) => r.job),
     mode: "markers", type: ok.length > WEBGL_ABOVE_POINTS ? "scattergl" : "scatter", name: "ok evaluations", marker: {color: COLORS.ok, size: 5, opacity: 0.5}},
    {x: xs, y: steps, mode: "lines", type: "scatter", name: "best so far", line: {shape: "hv", color: COLORS.best, width: 2}}];
  plot(section, traces, {xaxis: {title: byTime ? "seconds since the start (gathered)" : "evaluations"},
                         yaxis: {title: exp.objectiveName()}});
  section.shown = {columns: [byTime ? "gathered_s" : "evaluation", "job_id", "objective", "status", "best_so_far"],
                   rows: exp.rows.map((r, i) => [xs[i], r.job, r.obj, r.status, steps[i]])};
}

/* Several objectives: one objective against another (the ok rows coloured by
 * evaluation number), the Pareto front (over every objective, from the server)
 * highlighted and, with 2 objectives, joined as a step line; beside it the
 * front's hypervolume after each evaluation. With more than 2 objectives,
 * selectors pick the pair shown (the front's rows are then not a staircase in
 * it, so they are circled only). */
function renderFront(section, exp) {
  const names = exp.objectives, front = exp.front;
  section.hidden = names.length < 2;
  if (section.hidden || !front || !front.objectives) return;
  const pair = section.pair || (section.pair = [0, 1]);
  let info = section.querySelector(".front-info");
  if (!info) {
    info = el("div", {class: "front-info"}, el("span", {class: "front-text"}));
    if (names.length > 2) {
      const chooser = (axis) => el("select", {id: "front-" + (axis ? "y" : "x"), onchange: (e) => {
        pair[axis] = Number(e.target.value); renderFront(section, exp); }},
        ...names.map((n, i) => { const o = el("option", {value: String(i), text: n}); o.selected = i === pair[axis]; return o; }));
      info.prepend(el("span", {class: "front-pair"}, "x: ", chooser(0), " y: ", chooser(1), " "));
    }
    section.insertBefore(info, section.querySelector(".plot"));
  }
  const ref = (front.reference || []).map((v, i) => names[i] + "=" + fmt(v)).join(", ");
  info.querySelector(".front-text").replaceChildren(
    el("b", {id: "front-size", text: String(front.size)}), " of " + front.ok + " ok evaluations on the front" +
    (names.length > 2 ? " (over all " + names.length + " objectives)" : "") + "; hypervolume ",
    el("b", {id: "front-hv", text: front.hypervolume === null ? "-" : front.hypervolume.toFixed(4)}),
    el("span", {class: "muted", text: " (normalised between the ideal point and the reference point " + ref + ")"}));
  const [a, b] = pair, onFront = new Set(front.front);
  const ok = exp.rows.filter((r) => r.allUsable);
  const best = ok.filter((r) => onFront.has(r.job)).sort((r, s) => r.objs[a] - s.objs[a]);
  const hv = front.history, lastN = Math.max(exp.rows.length, ...hv.evaluation);
  const gl = ok.length > WEBGL_ABOVE_POINTS ? "scattergl" : "scatter";
  plot(section, [
    {x: ok.map((r) => r.objs[a]), y: ok.map((r) => r.objs[b]), text: ok.map((r) => r.job), mode: "markers", type: gl,
     name: "ok evaluations", marker: {color: ok.map((r) => r.n), colorscale: "Viridis", size: 6,
     colorbar: {title: {text: "evaluation", side: "right"}, x: 0.56, len: 0.9, thickness: 12}}},
    {x: best.map((r) => r.objs[a]), y: best.map((r) => r.objs[b]), text: best.map((r) => r.job),
     mode: names.length > 2 ? "markers" : "lines+markers", type: "scatter",
     name: "Pareto front (" + front.size + (names.length > 2 ? ", over all " + names.length + " objectives" : "") + ")",
     line: {shape: "hv", color: COLORS.front, width: 1.5},
     marker: {color: "rgba(0,0,0,0)", size: 11, line: {color: COLORS.front, width: 2}}},
    {x: hv.evaluation.length ? [...hv.evaluation, lastN] : [], y: [...hv.hypervolume, ...hv.hypervolume.slice(-1)], mode: "lines",
     type: "scatter", name: "hypervolume", xaxis: "x2", yaxis: "y2", line: {shape: "hv", color: COLORS.best, width: 2}}],
       {xaxis: {title: names[a], domain: [0, 0.55]}, yaxis: {title: names[b]},
        xaxis2: {title: "evaluations", domain: [0.7, 1], anchor: "y2", range: [0, lastN + 1]},
        yaxis2: {title: "hypervolume (normalised)", anchor: "x2", rangemode: "tozero"},
        legend: {orientation: "h", y: -0.2, x: 0}});
  const hvAt = (n) => { let v = null; for (let i = 0; i < hv.evaluation.length && hv.evaluation[i] <= n; i++) v = hv.hypervolume[i]; return v; };
  section.shown = {columns: ["evaluation", "job_id", ...names, "on_front", "hypervolume_so_far"],
                   rows: ok.map((r) => [r.n, r.job, ...r.objs, onFront.has(r.job) ? 1 : 0, hvAt(r.n)])};
}

const SLICE_COLUMNS = 4;  // objective-against-parameter panels per row

/* One scatter per parameter: the objective of the ok rows against its value
 * (categories on a category axis; a numeric range of decades on a log axis). */
function renderSlices(section, exp) {
  const ok = exp.rows.filter((r) => r.usable);
  const d = Math.max(exp.params.length, 1), columns = Math.min(d, SLICE_COLUMNS), rows = Math.ceil(d / columns);
  const layout = {grid: {rows: rows, columns: columns, pattern: "independent"}, showlegend: false,
                  margin: {l: 60, r: 20, t: 10, b: 45}};
  const traces = exp.params.map((p, i) => {
    const values = ok.map((r) => r.params[p]);
    const numeric = values.length > 0 && values.every((v) => v !== "" && Number.isFinite(Number(v)));
    const xs = numeric ? values.map(Number) : values;
    const axis = i === 0 ? "" : String(i + 1);
    const positive = numeric && xs.every((x) => x > 0);
    const span = positive ? Math.max(...xs) / Math.min(...xs) : 0;
    layout["xaxis" + axis] = {title: {text: p, standoff: 2}, type: span >= 100 ? "log" : (numeric ? "linear" : "category")};
    layout["yaxis" + axis] = {title: i % columns === 0 ? exp.objectiveName() : "", matches: i === 0 ? undefined : "y"};
    return {x: xs, y: ok.map((r) => r.obj), hovertext: ok.map((r) => r.job), mode: "markers",
            type: ok.length > WEBGL_ABOVE_POINTS ? "scattergl" : "scatter", name: p,
            xaxis: "x" + axis, yaxis: "y" + axis, marker: {color: COLORS.ok, size: 5, opacity: 0.6}};
  });
  section.querySelector(".plot").style.height = (rows * 260 + 40) + "px";
  plot(section, traces, layout);
  section.shown = {columns: ["job_id", ...exp.params, "objective"],
                   rows: ok.map((r) => [r.job, ...exp.params.map((p) => r.params[p]), r.obj])};
}

function renderImportance(section, exp) {
  const imp = exp.importance || {};
  const params = (imp.params || []).filter((p) => p.importance !== null).reverse();
  plot(section, [
    {type: "bar", orientation: "h", name: "importance (share, with interactions)", y: params.map((p) => p.name),
     x: params.map((p) => p.importance), marker: {color: COLORS.ok},
     text: params.map((p) => p.importance.toFixed(2)), textposition: "auto"},
    {type: "scatter", mode: "markers", name: "alone (first-order index)", y: params.map((p) => p.name),
     x: params.map((p) => p.main), marker: {color: COLORS.best, symbol: "diamond", size: 9}}],
       {xaxis: {title: "share of the objective's variance (random forest, " + (imp.rows || 0) + " ok rows)",
                range: [0, 1.05]}, margin: {l: 120, r: 20, t: 10, b: 45}});
  section.shown = {columns: ["parameter", "kind", "importance", "main", "total"],
                   rows: (imp.params || []).map((p) => [p.name, p.kind, p.importance, p.main, p.total])};
}

function renderCurves(section, exp) {
  const status = new Map(exp.rows.map((r) => [r.job, r.status]));
  const best = exp.best();
  const groups = {ran: {x: [], y: []}, stopped: {x: [], y: []}, running: {x: [], y: []}};
  const ends = {x: [], y: [], text: []};
  const shown = [];
  for (const [job, points] of exp.curves) {
    const st = status.get(job) || "running";
    const g = st === "stopped" ? groups.stopped : (st === "running" ? groups.running : groups.ran);
    const sorted = points.slice().sort((a, b) => a[0] - b[0]);
    for (const [s, v] of sorted) { g.x.push(s); g.y.push(v); shown.push([job, st, s, v]); }
    g.x.push(null); g.y.push(null);
    if (st === "stopped") { const last = sorted[sorted.length - 1]; ends.x.push(last[0]); ends.y.push(last[1]); ends.text.push(job); }
  }
  const traces = [
    {...groups.ran, mode: "lines", name: "ran to the end", line: {color: COLORS.ok, width: 1}, opacity: 0.5},
    {...groups.stopped, mode: "lines", name: "stopped early", line: {color: COLORS.stopped, width: 1}, opacity: 0.5},
    {...groups.running, mode: "lines", name: "running", line: {color: COLORS.other, width: 1, dash: "dot"}},
    {...ends, mode: "markers", name: "stop", marker: {symbol: "x", color: COLORS.stopped, size: 7}}];
  if (best && exp.curves.has(best.job)) {
    const pts = exp.curves.get(best.job).slice().sort((a, b) => a[0] - b[0]);
    traces.push({x: pts.map((p) => p[0]), y: pts.map((p) => p[1]), mode: "lines+markers", name: "best: " + best.job,
                 line: {color: COLORS.best, width: 3}});
  }
  plot(section, traces, {xaxis: {title: "step"}, yaxis: {title: "intermediate value"}});
  section.shown = {columns: ["job_id", "status", "step", "value"], rows: shown};
}

function renderTimeline(section, exp) {
  const traces = [];
  for (const st of ["ok", "stopped", "failed", "timeout"]) {
    const rows = exp.rows.filter((r) => r.status === st && Number.isFinite(r.start) && Number.isFinite(r.gather));
    traces.push({type: "bar", orientation: "h", name: st, base: rows.map((r) => r.start),
                 x: rows.map((r) => Math.max(r.gather - r.start, 0)), y: rows.map((r) => "worker " + r.worker),
                 hovertext: rows.map((r) => r.job), hovertemplate: "%{hovertext}<br>%{base:.1f} s + %{x:.1f} s<extra>" + st + "</extra>",
                 marker: {color: COLORS[st], line: {color: "#fff", width: rows.length < 500 ? 0.5 : 0}}});
  }
  const workers = [...new Set(exp.rows.map((r) => r.worker))].filter(Number.isFinite).sort((a, b) => a - b);
  plot(section, traces, {barmode: "overlay", xaxis: {title: "seconds since the start"},
                         yaxis: {categoryorder: "array", categoryarray: workers.map((w) => "worker " + w), autorange: "reversed"}});
  section.shown = {columns: ["worker", "job_id", "status", "start", "end"],
                   rows: exp.rows.map((r) => [r.worker, r.job, r.status, r.start, r.gather])};
}

const logCache = new Map();

function renderFailures(section, exp) {
  const bad = exp.rows.filter((r) => r.status === "failed" || r.status === "timeout");
  const shown = bad.slice(-FAILURES_SHOWN).reverse();
  const body = section.querySelector(".body");
  const list = el("div", {class: "scroll", id: "failures"});
  list.append(el("p", {class: "muted", id: "failures-count",
                       text: bad.length + " failed or timed out" + (bad.length > shown.length ? " (the last " + shown.length + " shown)" : "")}));
  for (const r of shown) {
    const key = exp.index + "/" + r.job;
    const pre = el("pre", {class: "log", text: logCache.has(key) ? logCache.get(key) : "..."});
    list.append(el("div", {class: "failure"}, el("b", {class: "st-" + r.status, text: r.job + " " + r.status}),
                   el("span", {class: "muted", text: " worker " + fmt(r.worker) + ", " + fmt(r.duration) + " s"}), pre));
    if (!logCache.has(key)) {
      logCache.set(key, "...");
      api("/api/exp/" + exp.index + "/log/" + encodeURIComponent(r.job))
        .then((a) => { logCache.set(key, a.lines.join("\n") || "(empty model.log)"); pre.textContent = logCache.get(key); })
        .catch(() => { logCache.set(key, "(no model.log)"); pre.textContent = "(no model.log)"; });
    }
  }
  body.replaceChildren(list);
  section.shown = {columns: ["job_id", "status", "worker", "duration", "model.log tail"],
                   rows: shown.map((r) => [r.job, r.status, r.worker, r.duration, logCache.get(exp.index + "/" + r.job)])};
}

function renderTable(section, exp) {
  const state = section.tableState || (section.tableState = {sort: null, desc: false, filter: ""});
  const several = exp.objectives.length > 1;  // a column per objective instead of "objective"
  const columns = ["#", "job_id", ...exp.params, ...(several ? exp.objectives : ["objective"]),
                   "status", "worker", "start", "end", "duration"];
  const param = (t) => (t !== "" && Number.isFinite(Number(t)) ? Number(t) : t);
  const value = (r) => [r.n, r.job, ...exp.params.map((p) => param(r.params[p])), ...(several ? r.objs : [r.obj]),
                        r.status, r.worker, r.start, r.gather, r.duration];
  const needle = state.filter.toLowerCase();
  let rows = exp.rows.map(value);
  if (needle) rows = rows.filter((v) => v.some((c) => String(c).toLowerCase().includes(needle)));
  if (state.sort !== null) {
    const i = state.sort, sign = state.desc ? -1 : 1;
    const key = (c) => (typeof c === "number" ? (Number.isNaN(c) ? Infinity : c) : (Number.isFinite(Number(c)) && c !== "" ? Number(c) : String(c)));
    rows.sort((a, b) => { const x = key(a[i]), y = key(b[i]); return (x < y ? -1 : x > y ? 1 : 0) * sign; });
  }
  let filter = section.querySelector("input.filter");
  if (!filter) {
    filter = el("input", {class: "filter", id: "table-filter", placeholder: "filter (any column)", type: "search"});
    filter.addEventListener("input", () => { state.filter = filter.value; renderTable(section, exp); });
    section.querySelector(".body").replaceChildren(el("div", {}, filter, " ", el("span", {class: "muted", id: "table-count"})),
                                                   el("div", {class: "scroll"}, el("table", {id: "rows"})));
  }
  const head = el("tr", {}, ...columns.map((c, i) => el("th", {
    text: c + (state.sort === i ? (state.desc ? " \u25bc" : " \u25b2") : ""),
    onclick: () => { state.desc = state.sort === i ? !state.desc : false; state.sort = i; renderTable(section, exp); }})));
  const table = section.querySelector("#rows");
  const body = rows.slice(0, TABLE_MAX_ROWS).map((v) => el("tr", {}, ...v.map((c, i) => el("td", {
    class: (typeof c === "number" ? "num" : "") + (columns[i] === "status" ? " st-" + c : ""), text: fmt(c)}))));
  table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  section.querySelector("#table-count").textContent = rows.length + " of " + exp.rows.length + " rows" +
    (rows.length > TABLE_MAX_ROWS ? " (first " + TABLE_MAX_ROWS + " shown)" : "");
  section.shown = {columns: columns, rows: rows};
}

/* ------------------------------------------------------------------ pages */

async function experimentPage(index) {
  const exp = new Experiment(index);
  const main = document.getElementById("main");
  const p = {
    summary: panel("summary", "Experiment"), counts: panel("counts", "Evaluations by status"),
    best: panel("best", "Best objective"),
    bestTime: panel("best-time", "Best so far against time", {plot: true}),
    bestEvals: panel("best-evals", "Best so far against evaluations", {plot: true}),
    front: panel("front", "Pareto front", {plot: true, wide: true}),
    slices: panel("slices", "Objective against each parameter (ok rows)", {plot: true, wide: true}),
    importance: panel("importance", "Parameter importance", {plot: true}),
    curves: panel("curves", "Learning curves (intermediate values; x: stopped early)", {plot: true}),
    timeline: panel("timeline", "Worker timeline", {plot: true, wide: true}),
    failures: panel("failures", "Failed and timed-out evaluations (end of model.log)"),
    table: panel("table", "All evaluations", {wide: true})};
  p.front.hidden = true;  // shown when the results have several objectives
  main.replaceChildren(...Object.values(p));
  const tick = async () => {
    try {
      const rowsChanged = await exp.update();
      if (rowsChanged) {
        document.getElementById("title").textContent = "async-search: " + exp.info.name;
        document.title = exp.info.name + " - async-search";
        renderSummary(p.summary, exp); renderCounts(p.counts, exp); renderBest(p.best, exp);
        renderFailures(p.failures, exp); renderTable(p.table, exp);
        await plotlyReady;
        renderBestPlot(p.bestTime, exp, true); renderBestPlot(p.bestEvals, exp, false);
        renderSlices(p.slices, exp); renderTimeline(p.timeline, exp);
      }
      await plotlyReady;
      if (await exp.updateCurves() || rowsChanged) renderCurves(p.curves, exp);
      if (await exp.updateFront()) renderFront(p.front, exp);
      if (await exp.updateImportance()) renderImportance(p.importance, exp);
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString() +
        " (" + exp.rows.length + " rows)";
    } catch (err) {
      document.getElementById("updated").textContent = "update failed: " + err.message;
    }
    setTimeout(tick, POLL_MS);
  };
  await tick();
}

async function comparePage(list) {
  const exps = list.map((e) => new Experiment(e.index));
  const main = document.getElementById("main");
  const curves = panel("compare-best", "Best so far against evaluations", {plot: true, wide: true});
  const table = panel("compare-table", "Best of each experiment", {wide: true});
  main.replaceChildren(curves, table);
  const tick = async () => {
    try {
      await Promise.all(exps.map((e) => e.update().then(() => e.updateCurves())));
      await plotlyReady;
      plot(curves, exps.map((e) => ({x: e.rows.map((r) => r.n), y: e.bestSoFar(), mode: "lines",
                                      name: e.info.name, line: {shape: "hv", width: 2}})),
           {xaxis: {title: "evaluations"}, yaxis: {title: "best objective so far"}});
      curves.shown = {columns: ["experiment", "evaluation", "best_so_far"],
                      rows: exps.flatMap((e) => e.bestSoFar().map((b, i) => [e.info.name, i + 1, b]))};
      const rows = exps.map((e) => { const b = e.best(); return [e.info.name, e.info.state, e.rows.length,
        b ? b.obj : null, b ? b.job : "", e.index]; });
      const t = el("table", {id: "compare"}, el("tr", {}, ...["experiment", "state", "rows", "best objective", "job"].map((c) => el("th", {text: c}))));
      for (const r of rows) {
        t.append(el("tr", {}, el("td", {}, el("a", {href: withToken("/exp/" + r[5]), text: r[0]})), el("td", {text: r[1]}),
                    el("td", {class: "num", text: String(r[2])}), el("td", {class: "num best-objective", text: fmt(r[3])}),
                    el("td", {class: "best-job", text: r[4]})));
      }
      table.querySelector(".body").replaceChildren(t);
      table.shown = {columns: ["experiment", "state", "rows", "best_objective", "job_id"], rows: rows.map((r) => r.slice(0, 5))};
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (err) {
      document.getElementById("updated").textContent = "update failed: " + err.message;
    }
    setTimeout(tick, POLL_MS);
  };
  await tick();
}

async function start() {
  const list = await api("/api/experiments");
  const match = location.pathname.match(/^\/exp\/(\d+)/);
  const nav = document.getElementById("nav");
  const current = match ? Number(match[1]) : (list.length > 1 ? "compare" : 0);
  if (list.length > 1) nav.append(el("a", {href: withToken("/"), text: "compare", class: current === "compare" ? "current" : ""}));
  for (const e of list) {
    nav.append(el("a", {href: withToken("/exp/" + e.index), text: e.name, class: current === e.index ? "current" : ""}));
  }
  if (current === "compare") await comparePage(list);
  else await experimentPage(current);
}

start();
