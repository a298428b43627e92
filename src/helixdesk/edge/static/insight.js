// Proposed answers (/console/insight/proposals): a supervisor approves a proposal, with the text as
// edited on the page, or rejects it; "look for new proposals" asks the server to cluster now.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const flash = document.getElementById("flash");
  const wordsNode = document.getElementById("insight-words");
  const words = wordsNode ? JSON.parse(wordsNode.textContent) : { errors: {} };

  function say(message) { flash.textContent = message || ""; flash.hidden = !message; }

  async function post(path, body) {
    const r = await fetch("/console/api/insight" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
    if (!r.ok) {
      const m = data.error ? words.errors[data.error.code] || data.error.message : r.statusText;
      say(m); throw new Error(m);
    }
    say("");
    return data;
  }

  function edits(card) {
    const questions = {}, answers = {};
    card.querySelectorAll(".proposal__lang").forEach(function (box) {
      const lang = box.dataset.language;
      questions[lang] = box.querySelector(".proposal__question").value;
      answers[lang] = box.querySelector(".proposal__answer").value;
    });
    return { questions: questions, answers: answers };
  }

  document.querySelectorAll(".proposal").forEach(function (card) {
    const status = card.querySelector(".proposal__status");
    const buttons = card.querySelectorAll(".proposal__actions button");
    function decided(state, label) {
      card.dataset.status = state;
      status.textContent = label;
      buttons.forEach(function (b) { b.disabled = true; });
      card.querySelectorAll("textarea").forEach(function (t) { t.readOnly = true; });
    }
    const approve = card.querySelector(".approve");
    if (approve) approve.addEventListener("click", async function () {
      buttons.forEach(function (b) { b.disabled = true; });
      try {
        await post("/proposals/" + card.dataset.proposal + "/approve", edits(card));
        decided("approved", words.approved);
      } catch (e) { buttons.forEach(function (b) { b.disabled = false; }); }
    });
    const reject = card.querySelector(".reject");
    if (reject) reject.addEventListener("click", async function () {
      buttons.forEach(function (b) { b.disabled = true; });
      try {
        await post("/proposals/" + card.dataset.proposal + "/reject", {});
        decided("rejected", words.rejected);
      } catch (e) { buttons.forEach(function (b) { b.disabled = false; }); }
    });
  });

  const refresh = document.getElementById("refresh-proposals");
  if (refresh) refresh.addEventListener("click", async function () {
    refresh.disabled = true;
    try { await post("/proposals/refresh"); location.reload(); } finally { refresh.disabled = false; }
  });
  document.body.dataset.insightReady = "true";
})();
