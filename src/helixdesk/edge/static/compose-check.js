// Live quality check of the agent's draft: while the agent types, the draft is checked against the
// pack's rules (POST /console/api/conversations/{id}/check-draft). A finding shows the words that
// break the rule, why, the rule's sources and a compliant alternative, before anything is sent.
// The agent may still send, with a reason (kept with the message); the server refuses a flagged
// message without one (409 compliance_warning).
(function () {
  "use strict";
  const box = document.getElementById("reply");
  const panel = document.getElementById("qa-check");
  if (!box || !panel) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const conversation = panel.dataset.conversation;
  const list = panel.querySelector(".qa-check__list");
  const reason = document.getElementById("qa-reason");
  let timer = null;
  let asked = "";

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }

  // One entry per rule, the whole draft quoted with every span of that rule marked.
  function quote(text, spans) {
    const p = el("p", "qa-finding__quote");
    let at = 0;
    for (const f of spans) {
      if (f.start < at) continue;
      p.append(text.slice(at, f.start), el("mark", "qa-finding__span", text.slice(f.start, f.end)));
      at = f.end;
    }
    p.append(text.slice(at));
    return p;
  }

  function render(text, findings) {
    list.replaceChildren();
    if (!findings.length) { panel.hidden = true; reason.value = ""; return; }
    const rules = new Map();
    for (const f of findings) {
      if (!rules.has(f.rule)) rules.set(f.rule, []);
      rules.get(f.rule).push(f);
    }
    for (const [rule, spans] of rules) {
      const f = spans[0];
      const item = el("li", "qa-finding qa-finding--" + f.severity);
      item.dataset.rule = rule;
      item.append(quote(text, spans), el("p", "qa-finding__why", f.reason));
      if (f.sources && f.sources.length) item.append(el("p", "qa-finding__source muted", panel.dataset.sources + " " + f.sources.join("；")));
      if (f.alternative) {
        const alt = el("div", "qa-finding__alt");
        alt.append(el("span", "muted", panel.dataset.alternative + " "), el("q", "", f.alternative));
        const use = el("button", "qa-finding__use", panel.dataset.use);
        use.type = "button";
        use.addEventListener("click", () => { box.value = f.alternative; box.focus(); check(); });
        alt.append(" ", use);
        item.append(alt);
      }
      list.append(item);
    }
    panel.hidden = false;
  }

  async function check() {
    const text = box.value;
    asked = text;
    if (!text.trim()) { render("", []); return; }
    const r = await fetch(`/console/api/conversations/${conversation}/check-draft`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ text }),
    });
    if (!r.ok || asked !== text) return;  // a newer draft is being checked
    render(text, (await r.json()).findings || []);
  }

  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(check, 300);
  });

  window.helixdeskQa = {
    check,
    reason: () => (panel.hidden ? "" : reason.value.trim()),
    clear: () => { list.replaceChildren(); reason.value = ""; panel.hidden = true; },
  };
})();
