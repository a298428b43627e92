// The historical dashboard (/console/analytics) and its drill-down (/console/analytics/conversations).
// Reads the JSON API (/console/api/analytics/summary and /conversations) with the page's period and
// filters, fills the filter bar's options, the metric cards, the charts (through HelixCharts, each
// with its data table) and the agents' table. Every figure and every chart point links to the
// drill-down of the conversations behind it; the drill-down lists them, 50 at a time, each linking
// to the conversation. Other views (static/analytics_effect.js, loaded first) register themselves in
// window.HelixAnalyticsViews and get this script's helpers; scripts loaded after it (the drift
// section, static/analytics_drift.js) find them in window.HelixAnalytics.
(function () {
  "use strict";
  const root = document.getElementById("analytics");
  if (!root) return;
  const data = JSON.parse(document.getElementById("analytics-words").textContent);
  const words = data.words;
  const labels = data.labels;
  const API = "/console/api/analytics";
  const PAGE = "/console/analytics";
  const FILTERS = ["period", "from", "to", "channel", "language", "queue", "intent", "agent", "tier"];
  const METRICS = [
    "volume", "containment", "handoff_rate", "fcr", "csat", "first_response", "queue_wait", "abandonment",
    "aht", "transfers", "negative_rate", "risk_rate", "sla_compliance", "compliance_findings",
    "emotional_load", "occupancy", "cost_per_conversation", "cost_saved",
  ];
  // Figures with no conversation list behind them in the API (compliance findings are quality's;
  // occupancy is time online, not conversations).
  const NO_DRILL = new Set(["compliance_findings", "occupancy"]);
  // The outcome a metric's figure leads to: the conversations it counts (SLA: the breaches).
  const OUTCOME = {
    containment: "yes", handoff_rate: "yes", fcr: "yes", abandonment: "yes", negative_rate: "yes",
    risk_rate: "yes", transfers: "yes", compliance_findings: "yes", sla_compliance: "no",
  };
  // A breakdown's codes are worded with the pack's labels of this group.
  const BREAKDOWN_GROUP = {
    handoff_reasons: "reason", emotions: "emotion", risk_flags: "risk", intents: "intent",
    queues: "queue", channels: "channel",
  };
  const FILTER_GROUP = { channel: "channel", language: "language", queue: "queue", intent: "intent", tier: "tier" };

  const $ = (sel) => document.querySelector(sel);
  const w = (key) => words["an_" + key] || key;
  const fmt = (unit, value, currency) => window.HelixCharts.format(unit, value, currency);

  function label(group, code, fallback) {
    if (code === null || code === undefined || code === "") return "–";
    const worded = group && (labels[group] || {})[code];
    return worded || fallback || String(code).replace(/_/g, " ");
  }

  // ---- the query -------------------------------------------------------------------------------
  const params = new URLSearchParams(location.search);
  const filters = new URLSearchParams();
  FILTERS.forEach((name) => { const v = params.get(name); if (v) filters.set(name, v); });

  function qs(extra) {
    const q = new URLSearchParams(filters);
    Object.keys(extra || {}).forEach((k) => { if (extra[k] !== null && extra[k] !== undefined && extra[k] !== "") q.set(k, extra[k]); });
    return q.toString();
  }

  function drillHref(extra, period) {
    const q = new URLSearchParams(qs(extra));
    if (period) { q.set("period", "custom"); q.set("from", period.from); q.set("to", period.to); }
    return PAGE + "/conversations?" + q.toString();
  }

  function say(message) {
    const box = $("#an-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  async function get(path) {
    const r = await fetch(API + path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) {
      location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("sign in");
    }
    const body = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
    if (!r.ok) {
      const code = body.error ? body.error.code : "";
      const message = words["an_error_" + code] || (body.error && body.error.message) || w("error_failed");
      say(message);
      throw new Error(message);
    }
    return body;
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function link(text, href, cls) {
    const a = el("a", cls, text);
    a.href = href;
    return a;
  }

  // ---- the filter bar ----------------------------------------------------------------------------
  function fillOptions(options) {
    document.querySelectorAll("select[data-filter]").forEach((select) => {
      const name = select.dataset.filter;
      const list = (options || {})[name === "tier" ? "tiers" : name + "s"] || [];
      const chosen = params.get(name) || "";
      const keep = select.options[0];
      select.replaceChildren(keep);
      const seen = new Set();
      list.forEach((o) => {
        const key = typeof o === "object" ? o.key : o;
        if (key === null || key === undefined || seen.has(key)) return;
        seen.add(key);
        const text = name === "agent" ? (o.label || key) : label(FILTER_GROUP[name], key, typeof o === "object" ? o.label : null);
        const opt = el("option", null, text);
        opt.value = key;
        if (key === chosen) opt.selected = true;
        select.appendChild(opt);
      });
      if (chosen && !seen.has(chosen)) {
        const opt = el("option", null, label(FILTER_GROUP[name], chosen));
        opt.value = chosen; opt.selected = true;
        select.appendChild(opt);
      }
    });
  }

  // Dates given mean a custom period; "custom" without dates is left to the API to refuse or default.
  $("#filters").addEventListener("submit", (e) => {
    const from = $("#f-from").value, to = $("#f-to").value, period = $("#f-period");
    if ((from || to) && period.value !== "custom") period.value = "custom";
    if (period.value !== "custom") { $("#f-from").disabled = true; $("#f-to").disabled = true; }
    e.target.querySelectorAll("select, input").forEach((f) => { if (!f.value) f.disabled = true; });
  });

  function showPeriod(period) {
    if (!period) return;
    $("#an-period").textContent = w("period_shown").replace("{from}", period.from).replace("{to}", period.to).replace("{days}", period.days);
  }

  function previousPeriod(period) {
    if (!period || !period.from || !period.days) return null;
    const start = new Date(period.from + "T00:00:00Z");
    const end = new Date(start.getTime() - 86400000);
    const begin = new Date(start.getTime() - period.days * 86400000);
    const day = (d) => d.toISOString().slice(0, 10);
    return { from: day(begin), to: day(end) };
  }

  // ---- the metric cards ------------------------------------------------------------------------
  function cards(summary) {
    const box = $("#cards");
    box.replaceChildren();
    const byKey = {};
    (summary.metrics || []).forEach((m) => { byKey[m.key] = m; });
    const order = METRICS.filter((k) => byKey[k]).concat(Object.keys(byKey).filter((k) => !METRICS.includes(k)));
    const prev = previousPeriod(summary.period);
    order.forEach((key) => {
      const m = byKey[key];
      const outcome = OUTCOME[key] || "all";
      const card = el("article", "an__card");
      card.dataset.metric = key;
      card.appendChild(el("h3", "an__card-title", w("metric_" + key)));
      const shown = fmt(m.unit, m.value, m.currency);
      if (NO_DRILL.has(key)) {
        card.appendChild(el("span", "an__value an__value--plain", shown));
      } else {
        const value = link(shown, drillHref({ metric: key, outcome: outcome }), "an__value");
        value.setAttribute("aria-label", w("metric_" + key) + ": " + shown + " — " + w("see_conversations"));
        card.appendChild(value);
      }
      // A ratio's parts (a sum of seconds over a count says little): both lead to their conversations.
      if (m.unit === "ratio" && !NO_DRILL.has(key) && m.numerator !== null && m.numerator !== undefined && m.denominator) {
        const frac = el("p", "an__frac muted");
        frac.append(
          link(fmt("count", m.numerator), drillHref({ metric: key, outcome: outcome }), "an__numerator"),
          document.createTextNode(" / "),
          link(fmt("count", m.denominator), drillHref({ metric: key, outcome: "all" }), "an__denominator"),
        );
        card.appendChild(frac);
      }
      const before = el("p", "an__prev muted");
      before.appendChild(document.createTextNode(w("previous") + " "));
      const prevText = fmt(m.unit, m.previous, m.currency);
      before.appendChild(prev && !NO_DRILL.has(key) && m.previous !== null && m.previous !== undefined
        ? link(prevText, drillHref({ metric: key, outcome: outcome }, prev), "an__previous")
        : el("span", "an__previous", prevText));
      const delta = change(m);
      if (delta) before.append(" ", delta);
      card.appendChild(before);
      box.appendChild(card);
    });
    if (!order.length) box.appendChild(el("p", "muted", w("no_data")));
  }

  function change(m) {
    if (m.value === null || m.value === undefined || m.previous === null || m.previous === undefined) return null;
    const diff = m.value - m.previous;
    let text;
    if (m.unit === "ratio") text = (diff >= 0 ? "+" : "") + (diff * 100).toFixed(1) + " " + w("points");
    else if (m.previous) text = (diff >= 0 ? "+" : "") + ((diff / Math.abs(m.previous)) * 100).toFixed(1) + "%";
    else return null;
    const span = el("span", "an__delta " + (diff > 0 ? "an__delta--up" : diff < 0 ? "an__delta--down" : ""), text);
    return span;
  }

  // ---- the charts ------------------------------------------------------------------------------
  const charts = {};
  // The words of a chart's description (charts.js), in the page's language.
  const ARIA = {
    chart: w("aria_chart"), series: w("aria_series"), item: w("aria_item"), items: w("aria_items"),
    between: w("aria_between"), end: w("aria_end"), line: w("aria_line"), bar: w("aria_bar"), pie: w("aria_pie"),
    forest: w("aria_forest"), interval: w("aria_interval"), empty: w("no_data"),
  };

  function drawChart(name, spec) {
    const holder = document.querySelector('[data-chart="' + name + '"]');
    if (!holder) return;
    const title = document.getElementById("chart-" + name + "-title");
    spec.title = title ? title.textContent : name;
    spec.showTitle = false;
    spec.tableLabel = w("data_table");
    spec.emptyText = w("no_data");
    spec.words = ARIA;
    if (charts[name]) charts[name].update(spec);
    else charts[name] = window.HelixCharts.draw(holder, spec);
  }

  function dailyChart(name, summary, type, unit, keys) {
    const series = summary.series || {};
    const days = series.days || [];
    drawChart(name, {
      type: type,
      unit: unit,
      labels: days,
      labelHeader: w("day"),
      series: keys.map((k) => ({ name: w("metric_" + k), values: days.map((_, i) => ((series[k] || [])[i] ?? null)) })),
      href: (i, si) => drillHref({ metric: keys[si], outcome: OUTCOME[keys[si]] || "all", day: days[i] }),
    });
  }

  function breakdownChart(name, summary, type, top) {
    const items = ((summary.breakdowns || {})[name] || []).slice(0, top || 10);
    const group = BREAKDOWN_GROUP[name];
    drawChart(name, {
      type: type,
      unit: "count",
      horizontal: type === "bar",
      labels: items.map((it) => label(group, it.key, it.label)),
      labelHeader: w("breakdown_" + name),
      series: [{ name: w("col_conversations"), values: items.map((it) => it.count) }],
      // A hotspot leads to its page in insight (its messages); every other bar to its conversations.
      href: (i) => items[i].url || drillHref({ metric: name, key: items[i].key }),
    });
  }

  function agents(summary) {
    const body = $("#agents tbody");
    body.replaceChildren();
    const rows = (summary.breakdowns || {}).agents || [];
    rows.forEach((a) => {
      const tr = el("tr");
      tr.dataset.agent = a.key;
      const name = el("th", null, a.label || a.key);
      name.scope = "row";
      tr.appendChild(name);
      const href = drillHref({ metric: "agents", key: a.key });
      [["count", a.conversations], ["seconds", a.handled_seconds], ["seconds", a.aht_seconds],
        ["score", a.csat], ["score", a.emotional_load], ["seconds", a.online_seconds],
        ["ratio", a.occupancy]].forEach(([unit, v]) => {
        const td = el("td", "num");
        if (v === null || v === undefined) td.textContent = "–";
        else td.appendChild(link(fmt(unit, v), href));
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    if (!rows.length) {
      const tr = el("tr");
      const td = el("td", "muted", w("no_data"));
      td.colSpan = 8;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  async function dashboard() {
    const summary = await get("/summary?" + qs());
    showPeriod(summary.period);
    fillOptions(summary.options);
    $("#export-csv").href = API + "/summary.csv?" + qs();
    $("#effect-link").href = PAGE + "/effect?" + qs();
    cards(summary);
    dailyChart("volume", summary, "bar", "count", ["volume"]);
    dailyChart("containment", summary, "line", "ratio", ["containment", "handoff_rate"]);
    breakdownChart("handoff_reasons", summary, "bar");
    breakdownChart("emotions", summary, "pie", 8);
    dailyChart("csat", summary, "line", "score", ["csat"]);
    dailyChart("first_response", summary, "line", "seconds", ["first_response"]);
    dailyChart("sla_compliance", summary, "line", "ratio", ["sla_compliance"]);
    breakdownChart("risk_flags", summary, "bar");
    breakdownChart("intents", summary, "bar");
    breakdownChart("hotspots", summary, "bar");
    agents(summary);
  }

  // ---- the drill-down --------------------------------------------------------------------------
  const LIMIT = 50;

  function yesNo(v) { return v === null || v === undefined ? "–" : v ? w("yes") : w("no"); }

  function when(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const options = { dateStyle: "short", timeStyle: "short" };
    const zone = ($("#drill") || {}).dataset ? $("#drill").dataset.zone : "";
    if (zone) options.timeZone = zone;  // the bank's time, as the other console pages show it
    try { return d.toLocaleString(document.documentElement.lang, options); } catch (e) { return iso; }
  }

  function drillWhat(box) {
    const metric = box.dataset.metric;
    const parts = [];
    if (metric) parts.push(words["an_metric_" + metric] || words["an_breakdown_" + metric] || metric);
    if (box.dataset.key) {
      const group = BREAKDOWN_GROUP[metric];
      parts.push(metric === "agents" || !group ? box.dataset.key : label(group, box.dataset.key));
    }
    if (box.dataset.outcome && box.dataset.outcome !== "all") parts.push(w("outcome_" + box.dataset.outcome));
    if (box.dataset.day) parts.push(box.dataset.day);
    return parts.join(" · ");
  }

  async function conversations() {
    const box = $("#drill");
    const drill = {};
    ["metric", "outcome", "day", "key"].forEach((k) => { if (box.dataset[k]) drill[k] = box.dataset[k]; });
    const query = qs(drill);
    $("#drill-what").textContent = drillWhat(box);
    $("#export-drill-csv").href = API + "/conversations.csv?" + query;
    const body = $("#drill-table tbody");
    const more = $("#drill-more");
    let offset = 0;
    let agentNames = {};

    async function page() {
      const got = await get("/conversations?" + query + "&offset=" + offset + "&limit=" + LIMIT);
      $("#drill-total").textContent = w("drill_total").replace("{n}", fmt("count", got.total));
      (got.conversations || []).forEach((c) => {
        const tr = el("tr");
        tr.dataset.conversation = c.id;
        const first = el("th");
        first.scope = "row";
        first.appendChild(link(c.id, c.url || "/console/conversations/" + encodeURIComponent(c.id), "an__conv"));
        tr.appendChild(first);
        [
          when(c.started_at), label("channel", c.channel), label("language", c.language), label("queue", c.queue),
          label("intent", c.intent), c.agent ? agentNames[c.agent] || c.agent_name || c.agent : "–", label("tier", c.tier),
          yesNo(c.contained), yesNo(c.handed_off),
        ].forEach((v) => tr.appendChild(el("td", null, v)));
        tr.appendChild(el("td", "num", fmt("score", c.csat)));
        tr.appendChild(el("td", "num", fmt("seconds", c.first_response_seconds)));
        tr.appendChild(el("td", null, yesNo(c.sla_met)));
        body.appendChild(tr);
      });
      offset += (got.conversations || []).length;
      more.hidden = offset >= got.total || !(got.conversations || []).length;
      if (!got.total) {
        const tr = el("tr");
        const td = el("td", "muted", w("no_conversations"));
        td.colSpan = 13;
        tr.appendChild(td);
        body.appendChild(tr);
      }
    }

    more.addEventListener("click", async () => {
      more.disabled = true;
      try { await page(); } finally { more.disabled = false; }
    });
    // The filter bar's options (and the agents' names) come with the summary of the same period.
    try {
      const summary = await get("/summary?" + qs());
      showPeriod(summary.period);
      fillOptions(summary.options);
      ((summary.options || {}).agents || []).forEach((a) => { if (a && a.key) agentNames[a.key] = a.label; });
    } catch (e) { /* the list below still loads */ }
    say("");
    await page();
  }

  const views = { dashboard: dashboard, conversations: conversations };
  const more = window.HelixAnalyticsViews || {};
  const helpers = {
    API: API, PAGE: PAGE, words: words, labels: labels, w: w, fmt: fmt, label: label, qs: qs, get: get,
    say: say, el: el, link: link, fillOptions: fillOptions, showPeriod: showPeriod, drawChart: drawChart,
  };
  window.HelixAnalytics = helpers;  // for the dashboard's other sections (analytics_drift.js)
  const view = views[root.dataset.view] || (more[root.dataset.view] && (() => more[root.dataset.view](helpers)));
  (view ? view() : Promise.resolve())
    .catch(() => {})
    .finally(() => {
      root.setAttribute("aria-busy", "false");
      $("#an-loading").hidden = true;
      document.body.dataset.analyticsReady = "true";
    });
})();
