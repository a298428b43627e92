// QA review of one conversation: confirm or reject each finding, give the conversation a score.
// Pointing at a finding highlights its evidence in the transcript.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const root = $("#review");
  if (!root) return;
  const words = JSON.parse($("#review-words").textContent);
  const conversation = root.dataset.conversation;
  const post = (path, body) => window.helixdeskQuality.post(path, body, words.errors);

  function marks(findingId) { return $$(`mark.evidence[data-finding="${findingId}"]`); }

  function showVerdict(item, finding) {
    item.className = "finding finding--" + finding.verdict;
    $(".verdict", item).textContent = words.verdicts[finding.verdict] || finding.verdict;
    let who = $(".reviewer", item);
    if (!who) { who = document.createElement("span"); who.className = "muted reviewer"; $(".finding__verdict", item).appendChild(who); }
    who.textContent = " · " + (finding.reviewer || "");
    let note = $(".note", item);
    if (finding.review_note) {
      if (!note) { note = document.createElement("span"); note.className = "muted note"; $(".finding__verdict", item).appendChild(note); }
      note.textContent = " · " + finding.review_note;
    } else if (note) { note.remove(); }
    marks(finding.id).forEach((m) => { m.dataset.verdict = finding.verdict; });
  }

  $$("#findings .finding[data-finding]").forEach((item) => {
    const id = item.dataset.finding;
    const focus = (on) => marks(id).forEach((m) => m.classList.toggle("evidence--focus", on));
    item.addEventListener("mouseenter", () => focus(true));
    item.addEventListener("mouseleave", () => focus(false));
    item.addEventListener("click", (e) => {
      if (e.target.closest("button, input")) return;
      const first = marks(id)[0];
      if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
    });
    $$("button.judge", item).forEach((button) => button.addEventListener("click", async () => {
      const note = $(".finding__note", item);
      $$("button.judge", item).forEach((b) => { b.disabled = true; });
      try {
        const finding = await post(`/findings/${id}/verdict`, { verdict: button.dataset.verdict, note: note.value });
        showVerdict(item, finding);
        note.value = "";
      } finally {
        $$("button.judge", item).forEach((b) => { b.disabled = false; });
      }
    }));
  });

  $$("mark.evidence").forEach((mark) => mark.addEventListener("click", () => {
    const item = $(`#findings .finding[data-finding="${mark.dataset.finding}"]`);
    if (item) { item.scrollIntoView({ block: "nearest", behavior: "smooth" }); item.classList.add("finding--focus"); setTimeout(() => item.classList.remove("finding--focus"), 1500); }
  }));

  const form = $("#review-form");
  if (form) form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const score = Number(form.elements.score.value);
    const out = await post(`/conversations/${conversation}/review`, { score, note: form.elements.note.value });
    const card = out.scorecard;
    $("#review-status").textContent = `${words.saved} · ${card.reviewer || ""} · ${(card.reviewed_at || "").slice(0, 16).replace("T", " ")}`;
  });

  const ask = $("#ask-second-opinion");
  if (ask) ask.addEventListener("click", async () => {
    const out = $("#second-opinion-result");
    ask.disabled = true;
    try {
      const data = await post(`/conversations/${conversation}/second-opinion`, {});
      out.textContent = "";
      const opinion = data.second_opinion;
      const line = (text, cls) => { const p = document.createElement("p"); if (cls) p.className = cls; p.textContent = text; out.appendChild(p); return p; };
      if (!opinion) { line(words.second_opinion.none, "muted"); return; }
      line(`${words.second_opinion.score}: ${Math.round(opinion.score)}`);
      const list = document.createElement("ul");
      list.className = "findings";
      opinion.concerns.forEach((c) => {
        const item = document.createElement("li");
        item.className = "finding";
        item.dataset.seq = c.message;
        item.textContent = `${words.second_opinion.message.replace("{n}", c.message)}: ${c.note}`;
        list.appendChild(item);
      });
      out.appendChild(list);
    } finally {
      ask.disabled = false;
    }
  });
})();
