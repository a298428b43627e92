// The labelling queue and one item: mark entity spans by selecting text in the message, confirm or
// correct the intent, emotion and entities, then go on to the next item. Supervisors make a new
// dataset version from the queue page.
(function () {
  "use strict";
  const H = window.Helix;
  const { $, api, make, say } = H;

  // ---- the queue page: a new dataset version -----------------------------------------------------
  const snapshot = $("#snapshot");
  if (snapshot) snapshot.addEventListener("submit", async (e) => {
    e.preventDefault();
    await api("POST", "/learning/datasets", { note: snapshot.elements.note.value });
    location.reload();
  });

  // ---- one item ---------------------------------------------------------------------------------
  const root = $("#label-item");
  const form = $("#label-form");
  if (!root || !form) { document.body.dataset.ready = "true"; return; }
  const data = JSON.parse($("#label-data").textContent);
  const words = data.words;
  const message = $("#message");
  const list = $("#entity-list");
  let spans = data.entities.slice();

  function render() {
    spans.sort((a, b) => a.start - b.start);
    list.replaceChildren();
    spans.forEach((s, i) => {
      const li = make("li", "entity");
      li.dataset.type = s.type; li.dataset.start = s.start; li.dataset.end = s.end;
      li.appendChild(make("span", "tag", (data.entity_labels[s.type] || s.type) + ": " + data.text.slice(s.start, s.end)));
      const remove = make("button", "remove-entity", words.ln_remove);
      remove.type = "button";
      remove.addEventListener("click", () => { spans.splice(i, 1); render(); });
      li.appendChild(remove);
      list.appendChild(li);
    });
  }

  // The selection's offsets in the message's text (the message is one text node).
  function selected() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!message.contains(range.startContainer) || !message.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.selectNodeContents(message);
    before.setEnd(range.startContainer, range.startOffset);
    const start = before.toString().length;
    const end = start + range.toString().length;
    return end > start ? { start, end } : null;
  }

  $("#add-entity").addEventListener("click", () => {
    const at = selected();
    if (!at) { say(words.ln_select_first); return; }
    say("");
    spans = spans.filter((s) => s.end <= at.start || s.start >= at.end);  // a new span replaces overlapping ones
    spans.push({ type: $("#entity-type").value, start: at.start, end: at.end });
    window.getSelection().removeAllRanges();
    render();
  });

  async function next(skip) {
    const query = skip ? "?skip=" + encodeURIComponent(skip) : "";
    const found = await api("GET", "/learning/items/next" + query);
    location.href = found.item ? "/console/labelling/" + found.item.id : "/console/labelling?done=1";
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = $("#save-label");
    button.disabled = true;
    try {
      const item = await api("POST", `/learning/items/${data.item}/labels`, {
        intent: $("#intent").value, emotion: $("#emotion").value,
        entities: spans.map((s) => ({ type: s.type, start: s.start, end: s.end })),
      });
      root.dataset.status = item.status;
      $("#label-status").textContent = item.status === "resolved" ? words.ln_saved_resolved : words.ln_saved_waiting;
      form.hidden = true;
      setTimeout(() => next(""), 600);
    } finally { button.disabled = false; }
  });
  $("#skip").addEventListener("click", () => next(data.item));
  render();
  document.body.dataset.ready = "true";
})();
