// The live dashboard (provided). Polls data.json and ../status/ on its own origin once a second
// and draws with plain DOM and SVG. Every string from the pipeline (sensor ids, error codes) is
// set with textContent or setAttribute, never parsed as HTML.
"use strict";

const POLL_MS = 1000;
const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_BARS = 16; // every error code fits
const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777",
  "#4b5563"];
const MEANINGS = {
  exactly_once: "outputs, table changes and offsets commit in one transaction",
  at_least_once: "nothing is lost; a crash may repeat some outputs",
};

let lastUpdate = null;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function svgElement(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function clock(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

function formatNumber(value, decimals) {
  return Number(value).toLocaleString("en-US", {
    minimumFractionDigits: decimals, maximumFractionDigits: decimals,
  });
}

function showNote(container, text, className) {
  container.replaceChildren(element("p", className ? `note ${className}` : "note", text));
}

// A section of data.json: {state: ok|absent|not_built, values, note}. Returns the values to
// draw, or null after writing the note into the container.
function sectionValues(container, section) {
  if (!section) {
    showNote(container, "not available");
    return null;
  }
  if (section.state !== "ok") {
    showNote(container, section.note, section.state === "not_built" ? "not-built" : "");
    return null;
  }
  return section.values;
}

// Horizontal bars: one row per key, the largest MAX_BARS values, largest first unless `keep`.
function drawBars(container, values, options) {
  const opts = options || {};
  let entries = Object.entries(values).map(([key, value]) => [key, Number(value)]);
  if (!opts.keepOrder) entries.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const hidden = Math.max(entries.length - MAX_BARS, 0);
  entries = entries.slice(0, MAX_BARS);
  if (entries.length === 0) {
    showNote(container, opts.empty || "nothing yet");
    return;
  }
  const largest = Math.max(...entries.map(([, value]) => value), 1);
  const rows = entries.map(([key, value]) => {
    const row = element("div", "bar-row");
    row.setAttribute("data-key", key);
    const label = element("span", "key", opts.label ? opts.label(key) : key);
    label.title = key;
    const track = element("div", "bar-track");
    const fill = element("div", `bar-fill ${opts.colour ? opts.colour(key, value) : ""}`);
    fill.style.width = `${(100 * value) / largest}%`;
    track.append(fill);
    row.append(label, track, element("span", "value", formatNumber(value, 0)));
    return row;
  });
  if (hidden > 0) rows.push(element("p", "note", `and ${hidden} more`));
  container.replaceChildren(...rows);
}

function niceStep(span, ticks) {
  const raw = span / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step || raw;
}

// The line chart: x = window start, y = average temperature, one line per sensor.
function drawWindows(chart, legend, series) {
  const sensors = Object.keys(series);
  const points = sensors.flatMap((sensor) => series[sensor]);
  if (points.length === 0) {
    showNote(chart, "no window has closed yet");
    legend.replaceChildren();
    return;
  }
  const width = 960, height = 300;
  const m = { left: 58, right: 40, top: 12, bottom: 44 };
  const starts = points.map((p) => p.window_start);
  const temps = points.map((p) => p.avg_temperature);
  let xMin = Math.min(...starts), xMax = Math.max(...starts);
  if (xMin === xMax) { xMin -= 60; xMax += 60; }
  let yLow = Math.min(...temps), yHigh = Math.max(...temps);
  if (yHigh - yLow < 1) { yLow -= 1; yHigh += 1; }
  const yStep = niceStep(yHigh - yLow, 5);
  yLow = Math.floor(yLow / yStep) * yStep;
  yHigh = Math.ceil(yHigh / yStep) * yStep;
  const x = (t) => m.left + ((t - xMin) / (xMax - xMin)) * (width - m.left - m.right);
  const y = (v) => height - m.bottom - ((v - yLow) / (yHigh - yLow)) * (height - m.top - m.bottom);

  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(svgElement("title", {}, "Average temperature of each closed window, per sensor"));
  for (let v = yLow; v <= yHigh + yStep / 2; v += yStep) {
    svg.append(svgElement("line", { class: "gridline", x1: m.left, x2: width - m.right,
      y1: y(v), y2: y(v) }));
    svg.append(svgElement("text", { x: m.left - 8, y: y(v) + 4, "text-anchor": "end" },
      formatNumber(v, yStep < 1 ? 1 : 0)));
  }
  const xTicks = [...new Set(starts)].sort((a, b) => a - b);
  const every = Math.max(1, Math.ceil(xTicks.length / 8));
  xTicks.forEach((t, i) => {
    if (i % every !== 0 && i !== xTicks.length - 1) return;
    svg.append(svgElement("line", { class: "axis", x1: x(t), x2: x(t),
      y1: height - m.bottom, y2: height - m.bottom + 5 }));
    svg.append(svgElement("text", { x: x(t), y: height - m.bottom + 18, "text-anchor": "middle" },
      clock(t)));
  });
  svg.append(svgElement("line", { class: "axis", x1: m.left, x2: width - m.right,
    y1: height - m.bottom, y2: height - m.bottom }));
  svg.append(svgElement("line", { class: "axis", x1: m.left, x2: m.left, y1: m.top,
    y2: height - m.bottom }));
  svg.append(svgElement("text", { class: "axis-title", x: (m.left + width - m.right) / 2,
    y: height - 6, "text-anchor": "middle" }, "window start (local time)"));
  svg.append(svgElement("text", { class: "axis-title", x: 14, y: (m.top + height - m.bottom) / 2,
    "text-anchor": "middle", transform: `rotate(-90 14 ${(m.top + height - m.bottom) / 2})` },
  "average temperature (°C)"));

  const items = sensors.map((sensor, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const line = series[sensor];
    const path = line.map((p, i) => `${i ? "L" : "M"}${x(p.window_start)},${y(p.avg_temperature)}`);
    svg.append(svgElement("path", { d: path.join(" "), fill: "none", stroke: colour,
      "stroke-width": 2 }));
    for (const p of line) {
      const dot = svgElement("circle", { cx: x(p.window_start), cy: y(p.avg_temperature), r: 3.5,
        fill: colour, "data-sensor": sensor });
      dot.append(svgElement("title", {}, `${sensor}, window from ${clock(p.window_start)}: ` +
        `${formatNumber(p.avg_temperature, 2)} °C over ${p.count} readings`));
      svg.append(dot);
    }
    const latest = line[line.length - 1];
    const item = element("span", "legend-item");
    item.setAttribute("data-sensor", sensor);
    const swatch = element("span", "swatch");
    swatch.style.background = colour;
    item.append(swatch, element("span", "sensor", sensor),
      element("span", "latest-value", `${formatNumber(latest.avg_temperature, 2)} °C`),
      element("span", "muted small", `(${line.length} windows)`));
    return item;
  });
  chart.replaceChildren(svg);
  legend.replaceChildren(...items);
}

// Readings per second over the last minute: bars, with labelled axes.
function drawThroughput(chart, perSecond) {
  const width = 420, height = 130;
  const m = { left: 40, right: 8, top: 8, bottom: 30 };
  const peak = Math.max(...perSecond, 0);
  const top = peak > 0 ? niceStep(peak, 1) * Math.ceil(peak / niceStep(peak, 1)) : 1;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(svgElement("title", {}, "Readings handled per second, last 60 seconds"));
  const plotW = width - m.left - m.right, plotH = height - m.top - m.bottom;
  for (const v of top >= 2 ? [0, top / 2, top] : [0, top]) {
    const yy = m.top + plotH - (v / top) * plotH;
    svg.append(svgElement("line", { class: "gridline", x1: m.left, x2: width - m.right, y1: yy,
      y2: yy }));
    svg.append(svgElement("text", { x: m.left - 6, y: yy + 4, "text-anchor": "end" },
      formatNumber(v, Number.isInteger(v) ? 0 : 1)));
  }
  const barW = plotW / Math.max(perSecond.length, 1);
  perSecond.forEach((count, i) => {
    const h = (count / top) * plotH;
    svg.append(svgElement("rect", { x: m.left + i * barW + 0.5, y: m.top + plotH - h,
      width: Math.max(barW - 1, 1), height: h, fill: "#2563eb" }));
  });
  svg.append(svgElement("line", { class: "axis", x1: m.left, x2: width - m.right,
    y1: m.top + plotH, y2: m.top + plotH }));
  svg.append(svgElement("text", { x: m.left, y: height - 8 }, `−${perSecond.length} s`));
  svg.append(svgElement("text", { x: width - m.right, y: height - 8, "text-anchor": "end" },
    "now"));
  svg.append(svgElement("text", { class: "axis-title", x: (m.left + width) / 2, y: height - 8,
    "text-anchor": "middle" }, "readings per second"));
  chart.setAttribute("data-peak", String(peak));
  chart.replaceChildren(svg);
}

function drawLag(section) {
  const container = document.querySelector('[data-section="lag_per_partition"]');
  const topic = document.getElementById("lag-topic");
  topic.textContent = section && section.topic
    ? `end − committed offset, ${section.topic}` : "end − committed offset";
  const values = sectionValues(container, section);
  if (values === null) return;
  const lags = {};
  for (const [partition, offsets] of Object.entries(values)) {
    lags[partition] = offsets.lag === null ? 0 : offsets.lag;
  }
  drawBars(container, lags, {
    keepOrder: true,
    label: (partition) => `partition ${partition}`,
    colour: (_key, value) => (value > 0 ? "lagging" : ""),
    empty: "no partition assigned",
  });
  for (const [partition, offsets] of Object.entries(values)) {
    const row = [...container.querySelectorAll(".bar-row")]
      .find((r) => r.getAttribute("data-key") === partition);
    if (!row) continue;
    row.title = `end ${offsets.end ?? "unknown"}, committed ${offsets.committed ?? "unknown"}`;
    if (offsets.lag === null) row.querySelector(".value").textContent = "unknown";
  }
}

function drawTableSection(name, section, options) {
  const container = document.querySelector(`[data-section="${name}"]`);
  const values = sectionValues(container, section);
  if (values !== null) drawBars(container, values, options);
  return values;
}

// Keys only GET /status/ has: drawn when the learner's page serves them, else "not available".
function drawStatusOnly(name, status) {
  const container = document.querySelector(`[data-section="${name}"]`);
  const values = status && status.body ? status.body[name] : undefined;
  if (values === undefined || values === null || typeof values !== "object") {
    showNote(container, "not available");
    return;
  }
  drawBars(container, values, { colour: () => "late" });
}

function describeStatusPage(status) {
  const target = document.getElementById("status-page");
  if (status === null) target.textContent = "no answer";
  else if (status.code === 200) target.textContent = "200, served by task 5.3";
  else if (status.code === 404) target.textContent = "404: phase 5 is not running in this worker";
  else if (status.code === 500) target.textContent = "500: task 5.3 is not built yet (or raised)";
  else target.textContent = String(status.code);
}

// normal, warning, critical first (in that order), anything else after them.
function statusOrder(section) {
  if (!section || section.state !== "ok") return section;
  const known = ["normal", "warning", "critical"];
  const keys = Object.keys(section.values).sort((a, b) =>
    (known.includes(a) ? known.indexOf(a) : 9) - (known.includes(b) ? known.indexOf(b) : 9)
    || a.localeCompare(b));
  return { ...section, values: Object.fromEntries(keys.map((k) => [k, section.values[k]])) };
}

function render(data, status) {
  document.getElementById("app-id").textContent = data.app_id;
  const guarantee = document.getElementById("guarantee");
  guarantee.textContent = data.processing_guarantee;
  guarantee.className = `guarantee ${data.processing_guarantee}`;
  document.getElementById("guarantee-meaning").textContent =
    MEANINGS[data.processing_guarantee] || "";

  const notBuilt = Object.entries(data.not_built || {});
  const banner = document.getElementById("not-built");
  banner.hidden = notBuilt.length === 0;
  banner.textContent = notBuilt.length === 0 ? "" : "Not built yet (a stub raised "
    + "NotImplementedError in this worker): "
    + notBuilt.map(([task, what]) => `task ${task}, ${what}`).join("; ");

  const s = data.sections;
  drawTableSection("readings_per_status", statusOrder(s.readings_per_status), {
    keepOrder: true,
    colour: (key) => (["normal", "warning", "critical"].includes(key) ? key : ""),
  });
  drawTableSection("dead_letters_per_error_code", s.dead_letters_per_error_code, {
    colour: () => "dead",
  });
  const late = drawTableSection("late_events_per_sensor", s.late_events_per_sensor, {
    colour: () => "late", empty: "no late event",
  });
  document.getElementById("late-total").textContent = late === null ? "–"
    : formatNumber(Object.values(late).reduce((a, b) => a + Number(b), 0), 0);
  drawTableSection("readings_per_sensor", s.readings_per_sensor);
  drawLag(s.lag_per_partition);

  const chart = document.getElementById("windows-chart");
  const legend = document.getElementById("windows-legend");
  const windows = sectionValues(chart, s.windows_per_sensor);
  if (windows === null) legend.replaceChildren();
  else drawWindows(chart, legend, windows);

  document.getElementById("throughput-value").textContent =
    formatNumber(data.throughput.readings_per_second, 1);
  drawThroughput(document.getElementById("throughput-chart"), data.throughput.per_second);
  document.getElementById("throughput-peak").textContent =
    formatNumber(Math.max(...data.throughput.per_second, 0), 0);

  drawStatusOnly("replays_per_partition", status);
  drawStatusOnly("clock_rejected_per_sensor", status);
  describeStatusPage(status);
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  let body = null;
  if (response.ok) body = await response.json();
  return { code: response.status, body };
}

function showConnection(live) {
  const connection = document.getElementById("connection");
  connection.className = live ? "live" : "down";
  if (live) connection.textContent = `live, updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
  else connection.textContent = "worker unreachable" + (lastUpdate ? ` since ${lastUpdate}` : "")
    + ", retrying every second";
  document.body.setAttribute("data-connection", live ? "live" : "down");
}

async function poll() {
  try {
    const data = await getJson("data.json");
    if (data.body === null) throw new Error(`data.json answered ${data.code}`);
    let status = null;
    try {
      status = await getJson("../status/");
    } catch (error) {
      status = null;
    }
    render(data.body, status);
    lastUpdate = new Date().toLocaleTimeString([], { hour12: false });
    showConnection(true);
  } catch (error) {
    showConnection(false);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

poll();
