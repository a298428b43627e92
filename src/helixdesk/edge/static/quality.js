// Staff quality: a supervisor assigns coaching (from a suggestion or by hand); an agent marks their
// coaching items in progress or done, with a note.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const words = JSON.parse($("#quality-words").textContent);
  const post = (path, body) => window.helixdeskQuality.post(path, body, words.errors);

  const form = $("#assign");
  if (form) {
    $$("button.use-suggestion").forEach((b) => b.addEventListener("click", () => {
      form.elements.rule.value = b.dataset.rule;
      form.elements.title.value = b.dataset.title;
      form.elements.detail.value = b.dataset.detail;
      form.elements.examples.value = b.dataset.examples;
      if (!form.elements.due_on.value) {
        const due = new Date(Date.now() + 14 * 86400 * 1000);
        form.elements.due_on.value = due.toISOString().slice(0, 10);
      }
      form.scrollIntoView({ block: "center", behavior: "smooth" });
      form.elements.title.focus();
    }));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = form.elements;
      await post("/coaching", {
        agent_id: f.agent_id.value,
        rule: f.rule.value || null,
        title: f.title.value,
        detail: f.detail.value,
        due_on: f.due_on.value,
        examples: f.examples.value ? f.examples.value.split(",") : [],
      });
      location.reload();
    });
  }

  $$("#coaching-items tr[data-item]").forEach((row) => {
    $$("button.set-status", row).forEach((b) => b.addEventListener("click", async () => {
      const note = $(".coaching__note", row);
      b.disabled = true;
      try {
        await post(`/coaching/${row.dataset.item}/status`, { status: b.dataset.status, note: note ? note.value : "" });
        location.reload();
      } finally { b.disabled = false; }
    }));
  });
})();
