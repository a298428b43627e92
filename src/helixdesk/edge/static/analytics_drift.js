// The dashboard's model-drift section (/console/analytics#drift): each day of the page's period
// with its drift measures against the reference (helixdesk.drift), a measure beyond its threshold
// marked as an alarm, the period's alarms and the latest weekly retraining run. The page's language
// filter chooses the scope (all languages otherwise). Reads /console/api/analytics/drift through
// analytics.js's helpers (window.HelixAnalytics).
(function () {
  "use strict";
  const A = window.HelixAnalytics;
  const box = document.getElementById("drift");
  if (!A || !box) return;
  const { w, get, el, label, qs } = A;  // qs: the page's period (and filters the API ignores)
  const MEASURES = ["intent_shift", "confidence", "oos_rate", "new_vocabulary"];
  const LANGUAGES = ["zh-Hans", "zh-Hant", "en"];
  const share = (v) => (v * 100).toFixed(1) + "%";
  const figure = (name, v) => (v === null || v === undefined ? "–" : name === "intent_shift" ? Number(v).toFixed(3) : share(v));
  const chosen = new URLSearchParams(location.search).get("language");
  const scope = LANGUAGES.includes(chosen) ? chosen : "all";

  function cell(m) {
    const td = el("td", "num drift__cell");
    if (!m) { td.textContent = "–"; return td; }
    td.dataset.measure = m.name;
    td.textContent = figure(m.name, m.value);
    if (m.name !== "intent_shift" && m.reference !== null && m.reference !== undefined) {
      td.appendChild(el("span", "muted", " (" + figure(m.name, m.reference) + ")"));
    }
    if (m.beyond) {
      td.classList.add("drift__cell--alarm");
      td.appendChild(el("strong", "drift__flag", " " + w("drift_alarm")));
    } else if (!m.judged) {
      td.title = w("drift_" + (m.why || "no_reference"));
      td.classList.add("muted");
    }
    return td;
  }

  function alarmLine(a) {
    const li = el("li", "drift-alarm drift-alarm--" + a.status);
    li.dataset.alarm = a.id;
    const change = a.measure === "intent_shift"
      ? "JSD " + figure(a.measure, a.value)
      : figure(a.measure, a.reference) + " → " + figure(a.measure, a.value);
    li.append(
      el("strong", null, a.day + " · " + w("drift_measure_" + a.measure)),
      " " + change + " · " + w("drift_status_" + a.status),
    );
    const what = (a.detail || []).map((d) => (d.token ? d.token : label("intent", d.intent) + " " + share(d.share)));
    if (what.length) li.append(" · " + (a.measure === "new_vocabulary" ? w("drift_words") : w("drift_intents")) + ": " + what.join("、"));
    if (a.note) li.appendChild(el("q", "muted", a.note));
    return li;
  }

  async function load() {
    document.getElementById("drift-scope").textContent = scope === "all" ? w("drift_scope_all") : label("language", scope);
    const data = await get("/drift?" + qs({ scope: scope }));
    const list = document.getElementById("drift-alarm-list");
    list.replaceChildren(...(data.alarms || []).map(alarmLine));
    const body = document.querySelector("#drift-table tbody");
    body.replaceChildren();
    const judged = (data.days || []).filter((d) => d.judged);
    judged.slice().reverse().forEach((d) => {
      const tr = el("tr");
      tr.dataset.day = d.day;
      const th = el("th", null, d.day);
      th.scope = "row";
      const ref = d.reference || {};
      const byName = {};
      (d.measures || []).forEach((m) => { byName[m.name] = m; });
      tr.append(th, el("td", "num", d.messages),
        el("td", null, w("drift_ref_" + (ref.kind || "none")) + (ref.first ? " " + ref.first + "–" + ref.last : "")));
      MEASURES.forEach((name) => tr.appendChild(cell(byName[name])));
      body.appendChild(tr);
    });
    if (!judged.length) {
      const tr = el("tr"); const td = el("td", "muted", w("drift_no_days")); td.colSpan = 7;
      tr.appendChild(td); body.appendChild(tr);
    }
    const run = data.retraining;
    const line = document.getElementById("drift-retraining");
    if (run) {
      line.textContent = w("drift_retraining").replace("{week}", run.week) +
        w("drift_outcome_" + run.outcome).replace("{candidate}", run.candidate || "");
      line.hidden = false;
    }
  }

  load().catch(() => {}).finally(() => { box.dataset.ready = "true"; });
})();
