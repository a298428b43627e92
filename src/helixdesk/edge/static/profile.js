// The customer profile beside a conversation: profile, lifecycle stage with its rule, churn risk
// with its reasons, and what the bank's strategies suggest for the customer now (after the
// suitability gate). Every value carries where it came from (small text) and how (on hover).
(function () {
  "use strict";
  const panel = document.getElementById("lifecycle");
  const conv = document.getElementById("conv");
  if (!panel || !conv || !window.Helix) return;
  const { make, label } = window.Helix;
  const w = JSON.parse(document.getElementById("lifecycle-words").textContent);
  const status = document.getElementById("lifecycle-status");
  // The rule's explanation and every "why" come in the page's language (`why_i18n`,
  // `explanation_i18n`); the English text is kept in data-why / data-explanation.
  const lang = document.documentElement.lang || "en";
  const english = lang === "en";
  const inLang = (words, fallback) => (words && words[lang]) || fallback;
  function whyLine(text) {
    if (!text) return null;
    const p = make("p", "muted pf-why", text); p.lang = lang;
    return p;
  }
  const body = document.getElementById("lifecycle-body");

  // One row of the profile: the name, the value, and its source (small text; the why on hover).
  function row(list, name, value, f) {
    const dt = make("dt", "", name);
    const dd = make("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.appendChild(make("span", "", value));
    if (f) {
      const src = make("small", "pf-source", " · " + w.source + ": " + label("profile_source", f.source));
      const why = inLang(f.why_i18n, f.why);
      src.title = why; dd.title = why;
      dd.dataset.why = f.why;
      dd.appendChild(src);
      dd.dataset.source = f.source;
    }
    list.appendChild(dt); list.appendChild(dd);
    return dd;
  }
  const yesNo = (v) => (v ? w.yes : w.no);
  const listOf = (items) => (items.length ? items.join("、") : w.none);

  function stageSection(f) {
    const s = f.value;
    const box = make("div", "pf-stage");
    box.id = "lifecycle-stage";
    const head = make("p");
    head.appendChild(make("strong", "pf-stage__name", w.stages[s.stage] || s.stage));
    head.append(" · " + w.rule + ": " + label("stage_rule", s.rule));
    box.appendChild(head);
    const why = whyLine(inLang(s.explanation_i18n, s.explanation));
    if (why) box.appendChild(why);
    box.dataset.explanation = s.explanation;
    box.dataset.stage = s.stage;
    return box;
  }

  function churnSection(f) {
    const box = make("div", "pf-churn");
    box.id = "lifecycle-churn";
    const risk = f.value;
    if (!risk) {
      box.appendChild(make("p", "", w.churn_none));
      const why = whyLine(inLang(f.why_i18n, f.why));
      if (why) box.appendChild(why);
      box.dataset.why = f.why;
      box.dataset.band = "none";
      return box;
    }
    box.dataset.band = risk.band;
    const head = make("p");
    // The band is said in words (and by a mark), never by colour alone.
    head.appendChild(make("strong", "pf-band pf-band--" + risk.band, label("churn_band", risk.band)));
    head.append(" · " + w.probability + " " + (risk.probability * 100).toFixed(1) + "%");
    box.appendChild(head);
    const why = whyLine(inLang(f.why_i18n, f.why));
    if (why) box.appendChild(why);
    box.dataset.why = f.why;
    box.appendChild(make("h4", "", w.reasons));
    const reasons = make("ul", "pf-reasons");
    reasons.id = "lifecycle-reasons";
    for (const r of risk.reasons) {
      const li = make("li", "pf-reason pf-reason--" + r.direction);
      li.appendChild(make("span", "pf-reason__dir", r.direction === "raises" ? "▲ " : "▼ "));
      li.append(label("churn_feature", r.feature) + " — " + (r.direction === "raises" ? w.raises : w.lowers));
      // The feature's code and figures: on hover on an English page, kept in data-* on a Chinese one.
      li.dataset.feature = r.feature;
      li.dataset.figures = r.value + " (" + r.contribution + ")";
      if (english) li.title = r.feature + " = " + r.value + " (" + r.contribution + ")";
      reasons.appendChild(li);
    }
    box.appendChild(reasons);
    return box;
  }

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

  // Why a strategy suits the customer, from its reasons, in the page's words. The lifecycle's own
  // explanation is English on an English page; its Chinese ones name interests and risk tolerances
  // by their codes, so a Chinese page words the same reasons here (the original kept in
  // data-explanation).
  function explanation(rec, tolerance) {
    if (english) return rec.explanation.en;
    const words = [];
    for (const reason of rec.reasons) {
      const at = reason.indexOf(":");
      const key = at < 0 ? reason : reason.slice(0, at);
      const value = at < 0 ? "" : reason.slice(at + 1);
      if (key === "stage") words.push(fill(w.reason.stage, { stage: w.stages[value] || value }));
      else if (key === "churn_band") words.push(fill(w.reason.churn_band, { band: label("churn_band", value) }));
      else if (key === "at_risk") words.push(value === "decline" ? w.reason.decline : w.reason.high_churn);
      else if (key === "not_at_risk") words.push(w.reason.not_at_risk);
      else if (key === "interest") words.push(fill(w.reason.interest, { interest: label("interest", value) }));
      else if (key === "trigger") words.push(w.reason[value] || value);
    }
    if (rec.item && rec.item.risk) {
      words.push(fill(w.reason.risk, { risk: rec.item.risk, tolerance: label("risk_tolerance", tolerance) }));
    }
    if (!words.length) words.push(w.reason.everyone);
    return words.join("；");
  }

  // What is offered, in words: its kind, its value (offers) and its product's risk level.
  function offerLine(rec) {
    const line = make("p", "pf-rec__head");
    line.appendChild(make("strong", "pf-rec__kind", w.kinds[rec.kind] || rec.kind));
    if (rec.value != null) line.append(" · " + fill(w.recs_value, { value: rec.value }));
    if (rec.item && rec.item.risk) line.append(" · " + fill(w.recs_risk, { risk: rec.item.risk }));
    return line;
  }
  const textOf = (rec) => (rec.texts && (rec.texts[lang] || rec.texts.en)) || "";

  function suggestionsSection(p) {
    const box = make("section", "pf-recs");
    box.id = "lifecycle-recs";
    box.setAttribute("aria-labelledby", "lifecycle-recs-title");
    const title = make("h3", "", w.recs); title.id = "lifecycle-recs-title";
    box.appendChild(title);
    const gate = p.suitability || {};
    box.dataset.blocked = String(Boolean(gate.open_complaint || gate.fraud_report));
    if (gate.open_complaint || gate.fraud_report) {
      const note = make("p", "pf-recs__note", gate.open_complaint ? w.recs_blocked_complaint : w.recs_blocked_fraud);
      note.id = "lifecycle-recs-note"; note.setAttribute("role", "note");
      box.appendChild(note);
    } else if (!p.recommendations.length) {
      const note = make("p", "muted pf-recs__note", w.recs_none); note.id = "lifecycle-recs-note";
      box.appendChild(note);
    }
    if (p.recommendations.length) {
      const list = make("ul", "pf-recs__list");
      list.id = "lifecycle-recs-list";
      for (const rec of p.recommendations) {
        const li = make("li", "pf-rec");
        li.dataset.strategy = rec.strategy_id;
        li.dataset.kind = rec.kind;
        li.dataset.explanation = rec.explanation.en;
        li.appendChild(offerLine(rec));
        const text = make("p", "pf-rec__text", textOf(rec)); text.lang = rec.texts[lang] ? lang : "en";
        li.appendChild(text);
        li.appendChild(make("p", "muted pf-rec__why", w.recs_why + "：" + explanation(rec, p.risk_tolerance.value)));
        list.appendChild(li);
      }
      box.appendChild(list);
    }
    if (p.withheld.length) {
      const head = make("h4", "", w.recs_withheld); head.id = "lifecycle-withheld-title";
      box.appendChild(head);
      const list = make("ul", "pf-withheld");
      list.id = "lifecycle-withheld";
      list.setAttribute("aria-labelledby", "lifecycle-withheld-title");
      for (const held of p.withheld) {
        const li = make("li", "pf-withheld__item");
        li.dataset.strategy = held.strategy_id;
        li.dataset.rule = held.rule;
        li.appendChild(make("strong", "", (w.kinds[held.kind] || "") + " — " + (w.gate[held.rule] || held.rule)));
        if (held.texts) li.appendChild(make("p", "muted pf-withheld__text", textOf(held)));
        list.appendChild(li);
      }
      box.appendChild(list);
    }
    return box;
  }

  function render(p) {
    body.replaceChildren();
    const stage = make("section"); stage.appendChild(make("h3", "", w.stage)); stage.appendChild(stageSection(p.stage));
    const churn = make("section"); churn.appendChild(make("h3", "", w.churn)); churn.appendChild(churnSection(p.churn_risk));
    body.appendChild(stage); body.appendChild(churn);
    body.appendChild(suggestionsSection(p));
    const facts = make("dl", "facts pf-facts");
    facts.id = "lifecycle-facts";
    const d = p.demographics;
    row(facts, w.age_band, d.age_band.value.replace("_plus", "+").replace("under_", "<").replace("_", "–"), d.age_band);
    row(facts, w.city, d.city.value, d.city);
    row(facts, w.tier, label("tier", p.value_tier.value), p.value_tier);
    row(facts, w.risk_tolerance, label("risk_tolerance", p.risk_tolerance.value), p.risk_tolerance);
    row(facts, w.language, label("language", p.language.value), p.language);
    row(facts, w.style, p.style.value ? label("profile_style", p.style.value) : w.style_unknown, p.style);
    const tx = p.transactions;
    row(facts, w.remittance, yesNo(tx.cross_border_remittance.value), tx.cross_border_remittance);
    row(facts, w.payroll, yesNo(tx.payroll.value), tx.payroll);
    row(facts, w.categories,
        listOf(tx.card_categories.value.map((c) => label("spend_category", c.category) + " " + Math.round(c.share * 100) + "%")),
        tx.card_categories);
    const interests = make("span");
    if (!p.interests.value.length) interests.textContent = w.none;
    for (const i of p.interests.value) {
      const tag = make("span", "tag", label("interest", i.interest));
      tag.title = w.source + ": " + label("profile_source", i.source);
      interests.appendChild(tag);
    }
    row(facts, w.interests, interests, p.interests);
    const products = make("ul", "products");
    for (const item of p.products.value) {
      const name = item.kind === "card" ? (item.name || label("card_kind", item.product.replace("_card", ""))) : label("account_kind", item.product);
      products.appendChild(make("li", "", name + " " + item.ref + " · " + (item.in_use ? w.in_use : w.not_in_use) + " (" + item.transactions + ")"));
    }
    row(facts, w.products, products, p.products);
    body.appendChild(facts);
    body.hidden = false;
    status.hidden = true;
  }

  async function load() {
    const r = await fetch(`/console/api/conversations/${conv.dataset.conversation}/customer-profile`, { credentials: "same-origin" });
    const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
    panel.setAttribute("aria-busy", "false");
    if (!r.ok) {
      status.textContent = data.error && data.error.code === "customer_anonymous" ? w.anonymous : w.unavailable;
      panel.dataset.state = "error";
      return;
    }
    render(data);
    panel.dataset.state = "ready";
  }
  load().catch(() => { status.textContent = w.unavailable; panel.dataset.state = "error"; });
})();
