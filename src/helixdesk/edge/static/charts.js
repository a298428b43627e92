// The console's chart component: every chart of the console goes through HelixCharts.draw().
//
//   const chart = HelixCharts.draw(element, {
//     type: "line" | "bar" | "pie" | "forest",
//     title: "Containment per day",          // the chart's title, the table's caption, the aria title
//     labels: ["2026-11-01", ...],            // x labels (the slices of a pie)
//     labelHeader: "Day",                     // the table's first column
//     series: [{ name: "Containment", values: [0.8, null, ...] }],
//     unit: "count" | "ratio" | "seconds" | "score" | "money",  currency: "CNY",
//     href: (index, seriesIndex) => "/console/...",  // optional: where a point and its cell lead
//     horizontal: false, decal: true, description: "...",  // optional
//     tableLabel: "Data table", emptyText: "No data",           // optional words
//     words: { chart: "{title}, {type}: ", ... },                // the description's words (WORDS)
//   });
//   chart.update(spec); chart.dispose();
//
// A forest plot ("forest") draws, per label, a point (series[0].values) with its interval
// (spec.low, spec.high) around a zero line, each label on its own axis: spec.scale[i] is what its
// figures are multiplied by to be plotted (100 for a difference of ratios in points), spec.bound[i]
// the largest difference it can have (1 for ratios; the axis ends there at most), spec.tick[i]
// words its axis. `texts` on a series give its figures as the table and the description show them
// (a signed difference, an interval), instead of `unit`.
//
// It draws with ECharts (vendor/echarts, loaded first) in the page's language (<html lang>: zh-Hans
// → ZH, zh-Hant → ZH-HANT from echarts-zh-hant.js, en → EN), with ECharts' aria on: the container
// gets an aria-label describing the chart and every figure as the table shows it, and
// decal patterns so series differ without colour. Under the chart it renders the same data as a
// <table> (a caption, th scope="col"/"row") in a <details>, each figure a link when the spec gives
// `href`.
// Clicking a point or a bar follows the same link. Charts resize with the window. No inline script
// or style: the page's CSP allows neither (ECharts sets its sizes through the DOM, which CSP allows;
// tooltips render as canvas text, not HTML).
(function () {
  "use strict";
  const LOCALES = { "zh-Hans": "ZH", "zh-Hant": "ZH-HANT", en: "EN" };
  const PALETTE = ["#0b5cab", "#d9822b", "#2e8b57", "#b3261e", "#6f42c1", "#17a2b8", "#8a4b00", "#5b6573"];
  const live = new Set();

  function lang() {
    const l = document.documentElement.lang;
    return LOCALES[l] ? l : "en";
  }

  function numberFormat(options) {
    return new Intl.NumberFormat(lang(), options);
  }

  // One figure in the page's language: "1,234", "83.1%", "45 sec" / "45秒", "6.2 min", "¥12.30", "4.2".
  function format(unit, value, currency) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    switch (unit) {
      case "ratio":
        return numberFormat({ style: "percent", maximumFractionDigits: 1 }).format(value);
      case "seconds":
        if (Math.abs(value) >= 7200) {
          return numberFormat({ style: "unit", unit: "hour", unitDisplay: "short", maximumFractionDigits: 1 }).format(value / 3600);
        }
        if (Math.abs(value) >= 120) {
          return numberFormat({ style: "unit", unit: "minute", unitDisplay: "short", maximumFractionDigits: 1 }).format(value / 60);
        }
        return numberFormat({ style: "unit", unit: "second", unitDisplay: "short", maximumFractionDigits: Math.abs(value) < 10 ? 1 : 0 }).format(value);
      case "money":
        return numberFormat({ style: "currency", currency: currency || "CNY" }).format(value);
      case "score":
        return numberFormat({ minimumFractionDigits: 1, maximumFractionDigits: 2 }).format(value);
      default:
        return numberFormat({ maximumFractionDigits: 1 }).format(value);
    }
  }

  // The chart's description for screen readers (ECharts puts it in the container's aria-label): its
  // title and kind, then each series' figures as the page shows them (83.1%, 45 sec), every label.
  // ECharts' own description reads plotted numbers without units and counts series from 0, so the
  // spec's `words` word ours (English by default; analytics.js passes the page's language).
  const WORDS = {
    chart: "{title}, {type}: ", series: "{name}: {data}", item: "{label} {value}", items: ", ",
    between: "; ", end: ".", line: "line chart", bar: "bar chart", pie: "pie chart", empty: "no data",
    forest: "forest plot", interval: "{label} {value} (95% interval {interval})",
  };

  // A series' figure as the page shows it: its own text when the spec words it, else by unit.
  function shown(spec, s, i) {
    if (s.texts && s.texts[i] !== undefined && s.texts[i] !== null) return s.texts[i];
    return format(spec.unit || "count", s.values[i], spec.currency);
  }

  function describe(spec) {
    const words = Object.assign({}, WORDS, spec.words || {});
    const fill = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
    const head = fill(words.chart, { title: spec.title || "", type: words[spec.type] || spec.type });
    if (!hasData(spec)) return head + words.empty + words.end;
    if (spec.type === "forest") {
      const point = spec.series[0], span = spec.series[1];
      return head + (spec.labels || []).map(function (label, i) {
        if (point.values[i] === null || point.values[i] === undefined) return fill(words.item, { label: label, value: "–" });
        return fill(words.interval, { label: label, value: shown(spec, point, i), interval: span ? shown(spec, span, i) : "" });
      }).join(words.between) + words.end;
    }
    const parts = (spec.series || []).map(function (s) {
      const data = (spec.labels || []).map(function (label, i) {
        return fill(words.item, { label: label, value: format(spec.unit || "count", s.values[i], spec.currency) });
      }).join(words.items);
      return fill(words.series, { name: s.name, data: data });
    });
    return head + parts.join(words.between) + words.end;
  }

  // What the chart plots: ratios as percentages (so the aria text and the axis read 83.1, not 0.831).
  function plotted(unit, value) {
    if (value === null || value === undefined) return null;
    return unit === "ratio" ? Math.round(value * 1000) / 10 : value;
  }

  function axisLabel(unit, currency) {
    return function (v) { return format(unit, unit === "ratio" ? v / 100 : v, currency); };
  }

  function option(spec) {
    const unit = spec.unit || "count";
    const series = spec.series || [];
    const many = series.length > 1;
    const decal = spec.decal !== undefined ? spec.decal : spec.type === "pie" || (spec.type === "bar" && many);
    const aria = { enabled: true, decal: { show: !!decal }, label: { description: spec.description || describe(spec) } };
    const base = {
      animation: false,
      color: PALETTE,
      aria: aria,
      title: { text: spec.title || "", show: spec.showTitle !== false, left: 0, textStyle: { fontSize: 14, fontWeight: 600 } },
      tooltip: {
        renderMode: "richText",
        trigger: spec.type === "pie" ? "item" : "axis",
        valueFormatter: function (v) { return v == null ? "–" : axisLabel(unit, spec.currency)(v); },
      },
    };
    if (spec.type === "forest") return Object.assign(base, forest(spec));
    if (spec.type === "pie") {
      const s = series[0] || { name: spec.title, values: [] };
      return Object.assign(base, {
        legend: { type: "scroll", bottom: 0 },
        series: [{
          type: "pie",
          name: s.name,
          radius: ["32%", "58%"],
          top: 24,
          bottom: 28,
          percentPrecision: 0,
          label: { formatter: "{b} {d}%" },
          data: (spec.labels || []).map(function (name, i) { return { name: name, value: plotted(unit, s.values[i]) }; }),
        }],
      });
    }
    const category = { type: "category", data: spec.labels || [], axisTick: { alignWithLabel: true } };
    const value = { type: "value", axisLabel: { formatter: axisLabel(unit, spec.currency) } };
    if (unit === "ratio") Object.assign(value, { min: 0, max: 100 });
    if (unit === "score") Object.assign(value, { min: 1, max: 5 });
    if (spec.horizontal) category.inverse = true;
    return Object.assign(base, {
      legend: many ? { top: 0, right: 0 } : undefined,
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: spec.horizontal ? value : category,
      yAxis: spec.horizontal ? category : value,
      series: series.map(function (s) {
        return {
          type: spec.type === "bar" ? "bar" : "line",
          name: s.name,
          connectNulls: false,
          showSymbol: true,
          symbolSize: 7,
          barMaxWidth: 28,
          data: s.values.map(function (v) { return plotted(unit, v); }),
        };
      }),
    });
  }

  // A round number at least `x` (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten): an axis's end.
  function nice(x) {
    if (!(x > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(x)));
    const step = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find(function (m) { return m * power >= x * (1 - 1e-9); });
    return step * power;
  }

  // One grid per label, one above the other, each with its own value axis symmetric about zero
  // (so every zero line stands in the middle), the label on the left; a whisker with caps for the
  // interval (a custom series) and a point for the figure, with the zero line dashed.
  function forest(spec) {
    const labels = spec.labels || [];
    const slot = 100 / Math.max(labels.length, 1);
    const point = (spec.series || [])[0] || { values: [] };
    const out = { grid: [], xAxis: [], yAxis: [], series: [] };
    out.tooltip = { renderMode: "richText", trigger: "item", formatter: function (p) {
      const i = p.seriesIndex >> 1;
      return labels[i] + "\n" + shown(spec, point, i) + ((spec.series || [])[1] ? "  (" + shown(spec, spec.series[1], i) + ")" : "");
    } };
    labels.forEach(function (label, i) {
      const k = (spec.scale || [])[i] || 1;
      const at = function (v) { return v === null || v === undefined ? null : v * k; };
      const value = at(point.values[i]), low = at((spec.low || [])[i]), high = at((spec.high || [])[i]);
      const reach = Math.max.apply(null, [value, low, high, 0].filter(function (v) { return v !== null; }).map(Math.abs));
      // Symmetric about zero, at most the figure's own bound (a difference of ratios: 100 points).
      const bound = (spec.bound || [])[i];
      const edge = bound ? Math.min(nice(reach * 1.1), bound * k) : nice(reach * 1.1);
      const tick = (spec.tick || [])[i] || function (v) { return format("count", v); };
      out.grid.push({ left: 190, right: 24, top: (slot * i + 3) + "%", height: (slot - 16) + "%" });
      out.xAxis.push({ type: "value", gridIndex: i, min: -edge, max: edge, splitNumber: 4,
        axisLabel: { formatter: function (v) { return tick(v / k); }, hideOverlap: true } });
      out.yAxis.push({ type: "category", gridIndex: i, data: [label], axisTick: { show: false },
        axisLabel: { width: 180, overflow: "break", fontWeight: 600 } });
      out.series.push({
        type: "custom", name: label, xAxisIndex: i, yAxisIndex: i, clip: true,
        data: low === null || high === null ? [] : [[low, high, 0]],
        renderItem: function (params, api) {
          const from = api.coord([api.value(0), 0]), to = api.coord([api.value(1), 0]);
          const cap = 7;
          const style = { stroke: PALETTE[0], lineWidth: 2 };
          return { type: "group", children: [
            { type: "line", shape: { x1: from[0], y1: from[1], x2: to[0], y2: to[1] }, style: style },
            { type: "line", shape: { x1: from[0], y1: from[1] - cap, x2: from[0], y2: from[1] + cap }, style: style },
            { type: "line", shape: { x1: to[0], y1: to[1] - cap, x2: to[0], y2: to[1] + cap }, style: style },
          ] };
        },
      });
      out.series.push({
        type: "scatter", name: label, xAxisIndex: i, yAxisIndex: i, symbolSize: 12, clip: true,
        itemStyle: { color: PALETTE[1] },
        data: value === null ? [] : [[value, 0]],
        markLine: { silent: true, symbol: "none", label: { show: false },
          lineStyle: { type: "solid", color: "#1f2933", width: 1.5 }, data: [{ xAxis: 0 }] },
      });
    });
    return out;
  }

  function cell(tag, text, attrs) {
    const el = document.createElement(tag);
    el.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  // The same data as an accessible table: a caption, one column per series, one row per label.
  function table(spec) {
    const t = document.createElement("table");
    t.className = "chart__table";
    t.appendChild(cell("caption", spec.title || ""));
    const head = document.createElement("thead");
    const hr = document.createElement("tr");
    hr.appendChild(cell("th", spec.labelHeader || "", { scope: "col" }));
    (spec.series || []).forEach(function (s) { hr.appendChild(cell("th", s.name, { scope: "col", class: "num" })); });
    head.appendChild(hr);
    t.appendChild(head);
    const body = document.createElement("tbody");
    (spec.labels || []).forEach(function (label, i) {
      const tr = document.createElement("tr");
      tr.appendChild(cell("th", label, { scope: "row" }));
      (spec.series || []).forEach(function (s, si) {
        const td = cell("td", "", { class: "num" });
        const text = shown(spec, s, i);
        const href = spec.href && s.values[i] !== null && s.values[i] !== undefined ? spec.href(i, si) : null;
        if (href) {
          const a = cell("a", text, { href: href });
          a.dataset.index = String(i);
          a.dataset.series = String(si);
          td.appendChild(a);
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    t.appendChild(body);
    return t;
  }

  function hasData(spec) {
    return (spec.series || []).some(function (s) { return s.values.some(function (v) { return v !== null && v !== undefined; }); });
  }

  function draw(element, spec) {
    const box = document.createElement("div");
    box.className = "chart__canvas";
    box.setAttribute("role", "img");
    const empty = document.createElement("p");
    empty.className = "chart__empty muted";
    // The data table sits in a disclosure under the chart: one key press away, for every chart.
    const details = document.createElement("details");
    details.className = "chart__data";
    const summary = document.createElement("summary");
    const holder = document.createElement("div");
    details.append(summary, holder);
    element.replaceChildren(box, empty, details);
    element.classList.add("chart");
    const chart = window.echarts.init(box, null, { renderer: "canvas", locale: LOCALES[lang()] });
    let current = spec;

    function follow(index, seriesIndex) {
      if (!current.href || index == null || index < 0) return;
      const series = (current.series || [])[seriesIndex || 0];
      if (!series || series.values[index] === null || series.values[index] === undefined) return;
      const href = current.href(index, seriesIndex || 0);
      if (href) window.location.assign(href);
    }

    chart.on("click", function (p) { follow(p.dataIndex, p.seriesIndex); });
    // A click anywhere in a day's column of a line chart is that day (a point is a small target).
    chart.getZr().on("click", function (e) {
      if (e.target || current.type !== "line") return;
      const at = [e.offsetX, e.offsetY];
      if (!chart.containPixel("grid", at)) return;
      const index = chart.convertFromPixel({ xAxisIndex: 0 }, at);
      follow(Array.isArray(index) ? index[0] : index, 0);
    });

    function render(next) {
      current = next;
      const some = hasData(next);
      box.hidden = !some;
      empty.hidden = some;
      empty.textContent = some ? "" : next.emptyText || "–";
      element.dataset.chartType = next.type;
      chart.setOption(option(next), true);
      if (some) chart.resize();
      summary.textContent = next.tableLabel || next.title || "";
      holder.replaceChildren(table(next));
    }

    render(spec);
    const handle = {
      element: element,
      chart: chart,
      update: render,
      dispose: function () { live.delete(handle); chart.dispose(); },
    };
    live.add(handle);
    return handle;
  }

  let pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { live.forEach(function (h) { h.chart.resize(); }); });
  });

  window.HelixCharts = { draw: draw, format: format, locale: function () { return LOCALES[lang()]; } };
})();
