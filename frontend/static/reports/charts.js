/* Charts of the reports page, drawn as SVG by our own code (no library, no CDN).
 *
 * A chart is the API's shape: {key, title, kind: "line"|"bar", unit, series: [{key, label}],
 * points: [{key, label, values: {<series key>: number|null}, tickets}]}. Every bar and point
 * is an SVG link to the inbox list of its tickets, named for screen readers ("Chat: 42 tickets")
 * and reachable with Tab; the numbers are also in a table under the chart. Colours come from
 * reports.css (classes series-0, series-1, ...), never from here.
 */
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 260;
const MARGIN = { top: 18, end: 12, bottom: 34, start: 48 };
const SERIES_CLASSES = 6; // reports.css colours series-0 .. series-5

const LOCALE = document.documentElement.lang || undefined;
const numberFormat = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });

// ---- numbers as text, shared with reports.js ----

const UNIT_SUFFIX = { "%": "%", min: " min", h: " h", pts: "", count: "", "": "" };

export function formatNumber(value) {
  return numberFormat.format(value);
}

/** A value with its unit: "87.5%", "4.2 min", "54.20 EUR"; null is "no data". */
export function formatValue(value, unit, currency) {
  if (value === null || value === undefined || value === "") return "no data";
  if (unit === "money") return `${value}${currency ? " " + currency : ""}`;
  if (typeof value !== "number") return String(value);
  return formatNumber(value) + (UNIT_SUFFIX[unit] ?? (unit ? " " + unit : ""));
}

/** A change in the figure's own unit, signed; shares change in points. */
export function formatChange(change, unit, currency) {
  const number = typeof change === "number" ? change : Number(change);
  const sign = number > 0 ? "+" : number < 0 ? "−" : "±";
  const size = unit === "money" ? Math.abs(number).toFixed(2) : formatNumber(Math.abs(number));
  const suffix = { "%": " pts", pts: " pts", min: " min", h: " h", money: currency ? " " + currency : "" }[unit] || "";
  return sign + size + suffix;
}

/** How a screen reader hears one value of a chart: "Chat: 42 tickets", "1 Nov, CSAT: 80%". */
export function valueName(chart, point, series, value) {
  const many = chart.series.length > 1;
  if (chart.unit === "count" || chart.unit === "") {
    const number = formatNumber(value);
    if (many) return `${point.label}, ${series.label}: ${number}`;
    const noun = series.label.toLowerCase();
    return `${point.label}: ${number} ${value === 1 && noun.endsWith("s") ? noun.slice(0, -1) : noun}`;
  }
  return `${point.label}${many ? ", " + series.label : ""}: ${formatValue(value, chart.unit)}`;
}

// ---- SVG helpers ----

function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function html(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function round(n) {
  return Math.round(n * 10) / 10;
}

/** A step of 1, 2, 2.5 or 5 times a power of ten near ``raw``. */
function niceStep(raw) {
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * power;
}

/** The y axis: 0 up to a round top above the largest value, with its ticks. */
function yAxis(values, unit) {
  let max = Math.max(0, ...values);
  if (max === 0) max = unit === "%" ? 100 : 1;
  let step = niceStep(max / 4);
  if (unit === "count") step = Math.max(1, step);
  let top = Math.ceil(max / step) * step;
  if (unit === "%" && top > 100 && max <= 100) top = 100;
  const ticks = [];
  for (let tick = 0; tick <= top + step / 1000; tick += step) ticks.push(round(tick));
  return { top, ticks };
}

function allValues(chart) {
  const values = [];
  for (const point of chart.points) {
    for (const series of chart.series) {
      const value = point.values[series.key];
      if (typeof value === "number") values.push(value);
    }
  }
  return values;
}

/** Which x labels fit: every one, or every n-th (always the first). */
function labelEvery(count, maxLabels) {
  return Math.max(1, Math.ceil(count / maxLabels));
}

function shorten(text, max) {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

// A chart is drawn left to right in either direction (time runs that way on
// screens in both); its labels inside keep their own direction (dir="auto"
// does not exist in SVG, so unicode-bidi plaintext in reports.css).
function frame(chart, ids, bottom) {
  const root = svg("svg", {
    class: `chart chart-${chart.kind}`,
    viewBox: `0 0 ${WIDTH} ${HEIGHT + bottom - MARGIN.bottom}`,
    role: "group",
    "aria-labelledby": `${ids.title} ${ids.desc}`,
    "data-testid": "chart-svg",
    "data-chart": chart.key,
    direction: "ltr",
  });
  root.append(svg("title", { id: ids.title, text: chart.title }), svg("desc", { id: ids.desc, text: describe(chart) }));
  return root;
}

function describe(chart) {
  const kind = chart.kind === "line" ? "Line chart" : "Bar chart";
  const values = allValues(chart);
  if (!values.length) return `${kind}: no data in this period.`;
  let best = null;
  for (const point of chart.points) {
    for (const series of chart.series) {
      const value = point.values[series.key];
      if (typeof value === "number" && (!best || value > best.value)) best = { point, series, value };
    }
  }
  const what = chart.kind === "line" ? `${chart.points.length} points` : `${chart.points.length} bars`;
  return `${kind}, ${what}; highest ${valueName(chart, best.point, best.series, best.value)}. Each links to its tickets.`;
}

const AXIS_UNIT = { "%": "%", min: "min", h: "h", pts: "pts", money: "" };

function gridAndYAxis(root, axis, plot, unit) {
  const grid = svg("g", { class: "chart-grid", "aria-hidden": "true" });
  if (AXIS_UNIT[unit]) {
    grid.append(svg("text", { x: plot.left - 6, y: plot.top - 8, "text-anchor": "end", class: "axis-label axis-unit", text: AXIS_UNIT[unit] }));
  }
  for (const tick of axis.ticks) {
    const y = plot.y(tick);
    grid.append(
      svg("line", { x1: plot.left, x2: plot.right, y1: y, y2: y, class: tick === 0 ? "axis-line" : "grid-line" }),
      svg("text", { x: plot.left - 6, y: y + 4, "text-anchor": "end", class: "axis-label", text: formatNumber(tick) }),
    );
  }
  root.append(grid);
}

function plotArea(axis, bottom) {
  const left = MARGIN.start;
  const right = WIDTH - MARGIN.end;
  const top = MARGIN.top;
  const base = HEIGHT - MARGIN.bottom;
  return {
    left,
    right,
    top,
    base,
    height: base - top,
    width: right - left,
    bottom,
    y: (value) => round(base - (value / axis.top) * (base - top)),
  };
}

function link(chart, point, series, value, shape) {
  const name = valueName(chart, point, series, value);
  return svg(
    "a",
    { href: point.tickets, "aria-label": name, "data-testid": chart.kind === "bar" ? "chart-bar" : "chart-point", "data-key": point.key },
    svg("title", { text: name }),
    ...shape,
  );
}

// ---- the two kinds ----

function barChart(chart, ids) {
  const count = chart.points.length;
  const band = (WIDTH - MARGIN.start - MARGIN.end) / Math.max(1, count);
  const longest = Math.max(0, ...chart.points.map((p) => p.label.length));
  // Labels wider than their bar are turned; a turned label needs room below.
  const turned = longest * 6.5 > band && count <= 16;
  const maxChars = 26;
  const bottom = turned ? Math.min(110, 18 + Math.min(longest, maxChars) * 4.2) : MARGIN.bottom;
  const axis = yAxis(allValues(chart), chart.unit);
  const plot = plotArea(axis, bottom);
  const root = frame(chart, ids, bottom);
  gridAndYAxis(root, axis, plot, chart.unit);

  const groups = chart.series.length;
  const inner = band * 0.72;
  const width = inner / groups;
  const every = turned ? 1 : labelEvery(count, Math.floor(plot.width / Math.max(28, longest * 7)));
  const bars = svg("g", { class: "chart-marks" });
  const labels = svg("g", { class: "chart-x", "aria-hidden": "true" });
  chart.points.forEach((point, i) => {
    const x0 = plot.left + i * band + (band - inner) / 2;
    chart.series.forEach((series, s) => {
      const value = point.values[series.key];
      if (typeof value !== "number") return;
      const y = plot.y(value);
      const height = Math.max(1, plot.base - y); // a zero is a sliver that still takes focus
      const rect = svg("rect", {
        x: round(x0 + s * width),
        y: round(plot.base - height),
        width: round(Math.max(1, width - (groups > 1 ? 2 : 0))),
        height: round(height),
        rx: 2,
        class: `bar series-${s % SERIES_CLASSES}`,
      });
      const shapes = [rect];
      if (groups === 1 && count <= 12) {
        shapes.push(
          svg("text", {
            x: round(x0 + width / 2),
            y: round(plot.base - height - 5),
            "text-anchor": "middle",
            class: "bar-value",
            "aria-hidden": "true",
            text: formatValue(value, chart.unit === "count" ? "" : chart.unit),
          }),
        );
      }
      bars.append(link(chart, point, series, value, shapes));
    });
    if (i % every !== 0) return;
    const cx = round(plot.left + i * band + band / 2);
    const text = svg("text", {
      x: cx,
      y: plot.base + 16,
      class: "axis-label x-label",
      "text-anchor": turned ? "end" : "middle",
      text: shorten(point.label, maxChars),
    });
    if (turned) text.setAttribute("transform", `rotate(-35 ${cx} ${plot.base + 10})`);
    labels.append(text);
  });
  root.append(bars, labels);
  return root;
}

function lineChart(chart, ids) {
  const count = chart.points.length;
  const axis = yAxis(allValues(chart), chart.unit);
  const plot = plotArea(axis, MARGIN.bottom);
  const root = frame(chart, ids, MARGIN.bottom);
  gridAndYAxis(root, axis, plot, chart.unit);
  const x = (i) => round(count === 1 ? (plot.left + plot.right) / 2 : plot.left + 8 + (i * (plot.width - 16)) / (count - 1));

  const lines = svg("g", { class: "chart-lines", "aria-hidden": "true" });
  const marks = svg("g", { class: "chart-marks" });
  chart.series.forEach((series, s) => {
    // A day without data breaks the line rather than dropping it to zero.
    let d = "";
    let pen = "M";
    chart.points.forEach((point, i) => {
      const value = point.values[series.key];
      if (typeof value !== "number") {
        pen = "M";
        return;
      }
      d += `${pen}${x(i)} ${plot.y(value)} `;
      pen = "L";
      marks.append(
        link(chart, point, series, value, [
          svg("circle", { cx: x(i), cy: plot.y(value), r: 11, class: "point-hit" }),
          svg("circle", { cx: x(i), cy: plot.y(value), r: count > 45 ? 2.5 : 3.5, class: `point series-${s % SERIES_CLASSES}` }),
        ]),
      );
    });
    if (d) lines.append(svg("path", { d: d.trim(), class: `line series-${s % SERIES_CLASSES}` }));
  });

  const labels = svg("g", { class: "chart-x", "aria-hidden": "true" });
  const every = labelEvery(count, 7);
  chart.points.forEach((point, i) => {
    if (i % every !== 0 && i !== count - 1) return;
    if (i === count - 1 && i % every !== 0 && (count - 1) % every < every / 2) return; // too close to the last shown
    labels.append(
      svg("text", { x: x(i), y: plot.base + 18, "text-anchor": "middle", class: "axis-label x-label", text: point.label }),
    );
  });
  root.append(lines, marks, labels);
  return root;
}

// ---- a chart with its caption, legend and numbers ----

let chartCount = 0;

/** The chart as a <figure>: caption, SVG, legend for several series, and a table of its numbers. */
export function chartFigure(chart) {
  chartCount += 1;
  const ids = { title: `chart-${chartCount}-title`, desc: `chart-${chartCount}-desc` };
  const figure = html("figure", { class: "chart-card", "data-testid": "chart", "data-chart": chart.key });
  figure.append(html("figcaption", { class: "chart-title", text: chart.title }));
  const values = allValues(chart);
  if (!values.length || (chart.kind === "bar" && values.every((value) => value === 0))) {
    // Bars all at zero say no more than this line, and take the space of a chart.
    const text = values.length ? "Nothing counted in this period." : "No data in this period.";
    figure.append(html("p", { class: "chart-empty", "data-testid": "chart-empty", text }));
    return figure;
  }
  figure.append((chart.kind === "line" ? lineChart : barChart)(chart, ids));
  if (chart.series.length > 1) {
    const legend = html("ul", { class: "chart-legend", "aria-hidden": "true" });
    chart.series.forEach((series, s) => {
      legend.append(html("li", {}, html("span", { class: `swatch series-${s % SERIES_CLASSES}` }), html("span", { text: series.label })));
    });
    figure.append(legend);
  }
  figure.append(numbersTable(chart));
  return figure;
}

function numbersTable(chart) {
  const head = html("tr", {}, html("th", { scope: "col", text: chart.kind === "line" ? "Day" : "Bar" }));
  for (const series of chart.series) head.append(html("th", { scope: "col", text: series.label }));
  const rows = chart.points.map((point) => {
    const row = html("tr", {}, html("th", { scope: "row" }, html("a", { href: point.tickets, text: point.label })));
    for (const series of chart.series) {
      row.append(html("td", { class: "num", text: formatValue(point.values[series.key], chart.unit) }));
    }
    return row;
  });
  return html(
    "details",
    { class: "chart-numbers" },
    html("summary", {}, html("span", { text: "Numbers" }), html("span", { class: "sr-only", text: ` of ${chart.title}` })),
    html(
      "div",
      { class: "table-scroll" },
      html(
        "table",
        { class: "report-table" },
        html("caption", { class: "sr-only", text: chart.title }),
        html("thead", {}, head),
        html("tbody", {}, ...rows),
      ),
    ),
  );
}
