// Training mode (/console/training): practise on a simulated customer, then read the QA score.
// Talks to /console/api/training (edge/console/training_api.py) through Helix.api (console.js).
(function () {
  "use strict";
  const { $, api, make } = window.Helix;
  const words = JSON.parse($("#training-words").textContent);
  const w = (key) => words["tr_" + key] || key;
  const start = $("#tr-start");
  const talk = $("#tr-talk");
  const transcript = $("#tr-transcript");
  const composer = $("#tr-composer");
  const reply = $("#tr-reply");
  const result = $("#tr-result");
  let current = null;

  function situation() {
    const chosen = start.querySelector('input[name="customer"]:checked');
    $("#tr-situation span").textContent = chosen ? chosen.dataset.situation : "";
  }
  start.addEventListener("change", situation);

  function show(view) {
    current = view;
    document.body.dataset.trainingStatus = view.status;
    transcript.textContent = "";
    view.transcript.forEach((line) => {
      const li = make("li", "line line--" + (line.sender === "agent" ? "agent" : "customer"));
      li.dataset.sender = line.sender;
      if (line.outcome) li.dataset.outcome = line.outcome;  // how the customer took the agent's message
      li.append(make("span", "line__who", line.sender === "agent" ? w("you") : w("simulated_customer")));
      li.append(make("span", "line__text", line.text));
      transcript.append(li);
    });
    transcript.scrollTop = transcript.scrollHeight;
    const needs = view.needs_met.map((n) => w("need_" + n));
    $("#tr-needs").textContent = w("needs_met") + " " + (needs.length ? needs.join("、") : "–");
    talk.hidden = false;
    const open = view.status === "open";
    reply.disabled = !open;
    $("#tr-send").disabled = !open;
    $("#tr-end").disabled = !open;
    result.hidden = open;
    if (!open) showResult(view);
  }

  function showResult(view) {
    $("#tr-outcome").textContent = w("outcome_" + view.outcome);
    $("#tr-score").textContent = String(Math.round(view.score));
    const list = $("#tr-findings");
    list.textContent = "";
    if (!view.findings.length) list.append(make("li", "training__finding", w("no_findings")));
    view.findings.forEach((f) => {
      const li = make("li", "training__finding");
      li.dataset.rule = f.rule;
      li.dataset.severity = f.severity;
      li.append(make("strong", "", f.reason));
      if (f.evidence) li.append(make("q", "training__evidence", f.evidence));
      if (f.alternative) li.append(make("span", "training__alt", w("alternative") + " " + f.alternative));
      list.append(li);
    });
    result.hidden = false;
    result.scrollIntoView({ block: "nearest" });
  }

  start.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = start.querySelector('input[name="customer"]:checked');
    const view = await api("POST", "/training/sessions", { customer: chosen.value, language: $("#tr-language").value });
    show(view);
    reply.focus();
  });

  composer.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = reply.value.trim();
    if (!text || !current) return;
    $("#tr-send").disabled = true;
    try {
      const view = await api("POST", "/training/sessions/" + current.id + "/messages", { text });
      reply.value = "";
      show(view);
    } finally {
      if (current && current.status === "open") $("#tr-send").disabled = false;
    }
  });
  reply.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); }
  });

  $("#tr-end").addEventListener("click", async () => {
    if (!current) return;
    show(await api("POST", "/training/sessions/" + current.id + "/end"));
  });
  situation();
  document.body.dataset.trainingReady = "true";
})();
