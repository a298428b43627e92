// The lifecycle strategies' page (/console/lifecycle): one strategy's effect against its holdout
// group, read from /console/api/lifecycle/strategies/{id}/effect with the page's period. Per outcome
// the touched and the holdout groups, the difference with its 95% interval and a verdict in words,
// the same as a forest plot (HelixCharts, with its description and data table). The strategies'
// table is the page's own (edge/console/lifecycle_pages.py).
(function () {
  "use strict";
  const box = document.getElementById("lc-effect");
  const words = JSON.parse(document.getElementById("lifecycle-words").textContent);
  const w = (key) => words["lc_" + key] || words[key] || key;
  const lang = document.documentElement.lang || "en";
  // How each outcome is shown: a score (CSAT 1-5), a ratio (its difference in percentage points) or
  // a count (products held).
  const OUTCOMES = {
    csat: { unit: "score", word: "an_metric_csat" },
    retention: { unit: "ratio", word: "an_effect_outcome_retention" },
    product_growth: { unit: "count", word: "lc_outcome_product_growth" },
  };
  const ARIA = {
    chart: words.an_aria_chart, series: words.an_aria_series, item: words.an_aria_item, items: words.an_aria_items,
    between: words.an_aria_between, end: words.an_aria_end, forest: words.an_aria_forest,
    interval: words.an_aria_interval, empty: words.an_no_data,
  };

  function done() { document.body.dataset.lifecycleReady = "true"; }
  if (!box) { done(); return; }

  function number(value, digits, signed) {
    return new Intl.NumberFormat(lang, {
      minimumFractionDigits: digits, maximumFractionDigits: digits, signDisplay: signed ? "exceptZero" : "auto",
    }).format(value);
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  }
  function say(message) {
    const p = document.getElementById("lc-error");
    p.textContent = message;
    p.hidden = !message;
  }

  async function load() {
    const q = new URLSearchParams();
    if (box.dataset.since) q.set("since", box.dataset.since);
    if (box.dataset.until) q.set("until", box.dataset.until);
    const r = await fetch("/console/api/lifecycle/strategies/" + encodeURIComponent(box.dataset.strategy) + "/effect?" + q,
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
    if (!r.ok) {
      const code = body.error ? body.error.code : "";
      say(words["lc_error_" + code] || w("error_failed"));
      return;
    }
    render(body);
  }

  function render(result) {
    const fmt = (unit, v) => window.HelixCharts.format(unit, v);
    const c = result.customers, t = result.touches;
    document.getElementById("lc-effect-what").textContent = fill(w("effect_what"), {
      touched: fmt("count", c.touched), holdout: fmt("count", c.holdout), given: fmt("count", t.given),
      held_out: fmt("count", t.held_out), skipped: fmt("count", t.skipped),
      share: fmt("ratio", result.holdout_share), days: fmt("count", result.csat_within_days),
    });
    const through = document.getElementById("lc-effect-through");
    through.hidden = !result.retention_observed_through;
    through.textContent = result.retention_observed_through
      ? fill(w("effect_through"), { month: result.retention_observed_through }) : "";
    const empty = !c.touched && !c.holdout;
    document.getElementById("lc-effect-empty").hidden = !empty;
    document.getElementById("lc-effect-table").hidden = empty;
    document.getElementById("lc-effect-charts").hidden = empty;
    if (empty) return;

    const rows = (result.outcomes || []).filter((o) => OUTCOMES[o.key]);
    const unit = (o) => OUTCOMES[o.key].unit;
    const diff = (o, v) => (unit(o) === "ratio" ? number(v * 100, 1, true) : number(v, 2, true));
    const suffix = (o) => (unit(o) === "ratio" ? " " + words.an_points : "");
    const differenceText = (o) => (o.difference === null ? "–" : diff(o, o.difference) + suffix(o));
    const intervalText = (o) => (o.difference === null ? "–"
      : fill(w("interval_range"), { low: diff(o, o.ci_low), high: diff(o, o.ci_high) }) + suffix(o));
    const mean = (o, v, n) => (v === null || v === undefined ? "–"
      : fill(w("mean_n"), { mean: unit(o) === "count" ? number(v, 2, false) : fmt(unit(o), v), n: fmt("count", n) }));
    const name = (o) => w(OUTCOMES[o.key].word);

    const body = document.querySelector("#lc-effect-table tbody");
    body.replaceChildren();
    rows.forEach((o) => {
      const tr = el("tr");
      tr.dataset.outcome = o.key;
      tr.dataset.verdict = o.verdict;
      const th = el("th", null, name(o));
      th.scope = "row";
      tr.appendChild(th);
      tr.appendChild(el("td", null, w("better_" + o.better)));
      tr.appendChild(el("td", "num lc__touched", mean(o, o.touched_mean, o.touched)));
      tr.appendChild(el("td", "num lc__holdout-mean", mean(o, o.holdout_mean, o.holdout)));
      tr.appendChild(el("td", "num lc__difference", differenceText(o)));
      tr.appendChild(el("td", "num lc__interval", intervalText(o)));
      tr.appendChild(el("td", "an__verdict an__verdict--" + o.verdict, verdictText(o)));
      body.appendChild(tr);
    });

    const title = document.getElementById("chart-lc-effect-title").textContent;
    window.HelixCharts.draw(document.querySelector('[data-chart="lc-effect"]'), {
      type: "forest",
      title: title,
      showTitle: false,
      tableLabel: words.an_data_table,
      emptyText: words.an_no_data,
      words: ARIA,
      labels: rows.map(name),
      labelHeader: w("outcome"),
      series: [
        { name: w("difference"), values: rows.map((o) => o.difference), texts: rows.map(differenceText) },
        { name: w("interval"), values: rows.map((o) => o.ci_low), texts: rows.map(intervalText) },
      ],
      low: rows.map((o) => o.ci_low),
      high: rows.map((o) => o.ci_high),
      scale: rows.map((o) => (unit(o) === "ratio" ? 100 : 1)),
      bound: rows.map((o) => (unit(o) === "ratio" ? 1 : unit(o) === "score" ? 4 : undefined)),
      tick: rows.map((o) => (v) => (unit(o) === "ratio" ? number(v * 100, 0, true) : number(v, 1, true))),
    });
  }

  // The verdict in words: better or worse says which way the touched differ from the holdout group.
  function verdictText(o) {
    if (o.verdict === "better" || o.verdict === "worse") {
      return w("verdict_" + o.verdict + "_" + (o.difference > 0 ? "higher" : "lower"));
    }
    return w("verdict_" + o.verdict);
  }

  load()
    .catch(() => say(w("error_failed")))
    .finally(() => { box.setAttribute("aria-busy", "false"); done(); });
})();
