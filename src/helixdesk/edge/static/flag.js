// An agent flags a customer message the bot misunderstood (the conversation view): each customer
// line gets a "misunderstood?" button; it opens a small form (what the customer meant, a note)
// under the line, and the message goes to the labelling queue.
(function () {
  "use strict";
  const { $, api, make } = window.Helix;
  const transcript = $("#transcript");
  const form = $("#flag-form");
  const conv = $("#conv");
  if (!transcript || !form || !conv) return;
  const label = form.dataset.button;

  function arm(li) {
    if (!li.classList.contains("line--customer") || li.querySelector(".flag-msg")) return;
    const button = make("button", "flag-msg", label);
    button.type = "button";
    button.dataset.seq = li.dataset.seq;
    li.appendChild(button);
  }

  Array.from(transcript.querySelectorAll("li.line--customer")).forEach(arm);
  new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
    if (n.nodeType === 1 && n.matches("li")) arm(n);
  }))).observe(transcript, { childList: true });

  transcript.addEventListener("click", (e) => {
    const button = e.target.closest(".flag-msg");
    if (!button) return;
    form.dataset.seq = button.dataset.seq;
    button.closest("li").appendChild(form);
    form.hidden = false;
    $("#flag-status").textContent = "";
  });
  $("#flag-cancel").addEventListener("click", () => { form.hidden = true; });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const intent = form.elements.intent.value;
    await api("POST", "/learning/flags", {
      conversation_id: conv.dataset.conversation, seq: Number(form.dataset.seq),
      intent: intent || null, note: form.elements.note.value,
    });
    form.hidden = true;
    form.elements.note.value = "";
    const done = transcript.querySelector(`li[data-seq="${form.dataset.seq}"] .flag-msg`);
    if (done) { done.textContent = form.dataset.done; done.disabled = true; }
  });
})();
