// The service-effect evaluation (/console/analytics/effect), a view of static/analytics.js (which
// runs it with its helpers). In the page's period and filters: the choices of a change from
// /console/api/analytics/effect/choices (the knowledge entries the bot's answers cited, the queues and
// handoff reasons, each with the conversations it touched, and a day for a change from then on); the
// chosen change goes into the page's address (`change`, as the API takes it), so an evaluation can be
// bookmarked. Then /effect: per outcome the touched and the comparable groups, the difference with its
// 95% interval and a verdict in words, the same as a forest plot (HelixCharts, with its description and
// data table), and how many touched conversations had nothing to compare with.
(function () {
  "use strict";
  const KINDS = ["knowledge", "queue", "reason", "after"];
  // How each outcome is shown: a score (CSAT, 1-5) or a ratio (its difference in percentage points).
  const OUTCOMES = {
    csat: { unit: "score", word: "metric_csat" },
    repeat_contact: { unit: "ratio", word: "effect_outcome_repeat_contact" },
    fcr: { unit: "ratio", word: "metric_fcr" },
    retention: { unit: "ratio", word: "effect_outcome_retention" },
  };
  const LABEL_GROUP = { queue: "queue", reason: "reason" };

  async function effect(h) {
    const $ = (sel) => document.querySelector(sel);
    const w = h.w;
    const box = $("#effect");
    const chosen = split(box.dataset.change || "");
    const kindSelect = $("#effect-kind");
    const lang = document.documentElement.lang || "en";

    function number(value, digits, signed) {
      return new Intl.NumberFormat(lang, {
        minimumFractionDigits: digits, maximumFractionDigits: digits, signDisplay: signed ? "exceptZero" : "auto",
      }).format(value);
    }

    // ---- the choices ---------------------------------------------------------------------------
    function show(kind) {
      document.querySelectorAll("#effect-form [data-kind]").forEach((field) => {
        field.hidden = field.dataset.kind !== kind;
      });
    }

    function fill(kind, list) {
      const select = $("#effect-" + kind);
      select.replaceChildren();
      const seen = new Set();
      (list || []).forEach((c) => {
        const name = kind === "knowledge" ? c.label || c.key : h.label(LABEL_GROUP[kind], c.key);
        const text = w("effect_count").replace("{label}", name).replace("{n}", h.fmt("count", c.count));
        const opt = h.el("option", null, text);
        opt.value = c.key;
        if (kind === "knowledge" && c.label && c.label !== c.key) opt.title = c.key;
        select.appendChild(opt);
        seen.add(c.key);
      });
      // A change from the address that the period no longer lists stays chosen.
      if (chosen.kind === kind && chosen.value && !seen.has(chosen.value)) {
        const opt = h.el("option", null, kind === "knowledge" ? chosen.value : h.label(LABEL_GROUP[kind], chosen.value));
        opt.value = chosen.value;
        select.appendChild(opt);
        seen.add(chosen.value);
      }
      if (chosen.kind === kind && chosen.value) select.value = chosen.value;
      if (!seen.size) {
        const none = h.el("option", null, w("effect_none"));
        none.value = "";
        none.disabled = true;
        none.selected = true;
        select.appendChild(none);
      }
      return seen.size;
    }

    const choices = await h.get("/effect/choices?" + h.qs({ lang: lang }));
    h.showPeriod(choices.period);
    h.fillOptions(choices.options);
    const counts = {
      knowledge: fill("knowledge", choices.knowledge),
      queue: fill("queue", choices.queues),
      reason: fill("reason", choices.reasons),
    };
    const after = $("#effect-after");
    if (choices.period) { after.min = choices.period.from; after.max = choices.period.to; }
    if (chosen.kind === "after" && /^\d{4}-\d{2}-\d{2}$/.test(chosen.value)) after.value = chosen.value;
    // The kind shown first: the address's, else the first kind the period has something of.
    kindSelect.value = KINDS.includes(chosen.kind) ? chosen.kind : KINDS.find((k) => counts[k]) || "after";
    show(kindSelect.value);
    kindSelect.addEventListener("change", () => show(kindSelect.value));

    $("#effect-form").addEventListener("submit", (e) => {
      const kind = kindSelect.value;
      const value = kind === "after" ? after.value : $("#effect-" + kind).value;
      if (!value) {
        e.preventDefault();
        h.say(w("error_invalid_change"));
        return;
      }
      $("#effect-change").value = kind + ":" + value;
      e.target.querySelectorAll("input[type=hidden]").forEach((f) => { if (!f.value) f.disabled = true; });
    });

    if (!chosen.kind) return;
    $("#effect-pick").hidden = true;
    const result = await h.get("/effect?" + h.qs({ change: box.dataset.change }));
    render(h, number, result, describe(h, chosen, choices));
  }

  function split(change) {
    const at = change.indexOf(":");
    return at < 0 ? { kind: "", value: "" } : { kind: change.slice(0, at), value: change.slice(at + 1) };
  }

  // The change in words: its kind and its value as the choices name it.
  function describe(h, chosen, choices) {
    const list = { knowledge: choices.knowledge, queue: choices.queues, reason: choices.reasons }[chosen.kind] || [];
    const found = list.find((c) => c.key === chosen.value);
    let name = chosen.value;
    if (chosen.kind === "knowledge" && found && found.label) name = found.label;
    if (LABEL_GROUP[chosen.kind]) name = h.label(LABEL_GROUP[chosen.kind], chosen.value);
    return h.w("effect_change").replace("{kind}", h.w("effect_kind_" + chosen.kind)).replace("{value}", name);
  }

  function render(h, number, result, what) {
    const w = h.w;
    const $ = (sel) => document.querySelector(sel);
    $("#effect-result").hidden = false;
    $("#effect-what").textContent = w("effect_touched")
      .replace("{change}", what).replace("{n}", h.fmt("count", result.touched))
      .replace("{from}", result.period.from).replace("{to}", result.period.to);
    const leftOut = $("#effect-left-out");
    leftOut.hidden = !result.left_out;
    leftOut.textContent = result.left_out ? w("effect_left_out").replace("{n}", h.fmt("count", result.left_out)) : "";
    const through = $("#effect-retention");
    through.hidden = !result.retention_observed_through;
    through.textContent = result.retention_observed_through
      ? w("effect_retention_through").replace("{month}", result.retention_observed_through) : "";
    const empty = !result.touched;
    $("#effect-empty").hidden = !empty;
    $("#effect-table").hidden = empty;
    $("#effect-charts").hidden = empty;
    if (empty) return;

    const rows = (result.outcomes || []).filter((o) => OUTCOMES[o.key]);
    // A ratio's difference in percentage points; a score's in points of the scale.
    const diff = (o, v) => (OUTCOMES[o.key].unit === "ratio" ? number(v * 100, 1, true) : number(v, 2, true));
    const suffix = (o) => (OUTCOMES[o.key].unit === "ratio" ? " " + w("points") : "");
    const differenceText = (o) => (o.difference === null ? "–" : diff(o, o.difference) + suffix(o));
    const intervalText = (o) => (o.difference === null ? "–"
      : w("effect_interval").replace("{low}", diff(o, o.ci_low)).replace("{high}", diff(o, o.ci_high)) + suffix(o));
    const mean = (o, v, n) => (v === null || v === undefined ? "–"
      : w("effect_n").replace("{mean}", h.fmt(OUTCOMES[o.key].unit, v)).replace("{n}", h.fmt("count", n)));

    const body = $("#effect-table tbody");
    body.replaceChildren();
    rows.forEach((o) => {
      const tr = h.el("tr");
      tr.dataset.outcome = o.key;
      tr.dataset.verdict = o.verdict;
      const name = h.el("th", null, w(OUTCOMES[o.key].word));
      name.scope = "row";
      tr.appendChild(name);
      tr.appendChild(h.el("td", null, w("effect_" + o.better)));
      tr.appendChild(h.el("td", "num an__touched", mean(o, o.touched_mean, o.touched)));
      tr.appendChild(h.el("td", "num an__comparable", mean(o, o.comparable_mean, o.comparable)));
      tr.appendChild(h.el("td", "num an__difference", differenceText(o)));
      tr.appendChild(h.el("td", "num an__interval", intervalText(o)));
      tr.appendChild(h.el("td", "an__verdict an__verdict--" + o.verdict, verdictText(w, o)));
      body.appendChild(tr);
    });

    h.drawChart("effect", {
      type: "forest",
      labels: rows.map((o) => w(OUTCOMES[o.key].word)),
      labelHeader: w("effect_outcome"),
      series: [
        { name: w("effect_difference"), values: rows.map((o) => o.difference), texts: rows.map(differenceText) },
        { name: w("effect_interval_head"), values: rows.map((o) => o.ci_low), texts: rows.map(intervalText) },
      ],
      low: rows.map((o) => o.ci_low),
      high: rows.map((o) => o.ci_high),
      scale: rows.map((o) => (OUTCOMES[o.key].unit === "ratio" ? 100 : 1)),
      bound: rows.map((o) => (OUTCOMES[o.key].unit === "ratio" ? 1 : 4)),  // a rate's points; the 1-5 scale
      tick: rows.map((o) => (v) => (OUTCOMES[o.key].unit === "ratio" ? number(v * 100, 0, true) : number(v, 1, true))),
    });
  }

  // The verdict in words: better or worse says which way the touched differ (higher or lower).
  function verdictText(w, o) {
    if (o.verdict === "better" || o.verdict === "worse") {
      return w("effect_verdict_" + o.verdict + "_" + (o.difference > 0 ? "higher" : "lower"));
    }
    return w("effect_verdict_" + o.verdict);
  }

  window.HelixAnalyticsViews = Object.assign(window.HelixAnalyticsViews || {}, { effect: effect });
})();
