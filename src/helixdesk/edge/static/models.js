// The model registry: shadow a candidate, stop a shadow run, promote (with an audited override when
// the gate refuses), roll back. Each action asks first, then the page is read again.
(function () {
  "use strict";
  const { $, $$, api, say } = window.Helix;
  const wordsEl = $("#md-words");
  if (!wordsEl) return;
  const words = JSON.parse(wordsEl.textContent);
  const root = $("#model");
  const version = root ? root.dataset.version : null;

  async function act(method, path, body) {
    await api(method, path, body);
    location.reload();
  }

  const shadow = $("#shadow");
  if (shadow) shadow.addEventListener("click", () => act("POST", `/models/${version}/shadow`));
  $$("#stop-shadow, .stop-shadow").forEach((b) => b.addEventListener("click", () => act("POST", "/models/shadow/stop")));

  const rollback = $("#rollback");
  if (rollback) rollback.addEventListener("click", () => {
    if (!window.confirm(words.md_confirm_rollback.replace("{version}", rollback.dataset.to))) return;
    act("POST", "/models/rollback", { reason: "" });
  });

  const promote = $("#promote");
  if (promote) promote.addEventListener("submit", async (e) => {
    e.preventDefault();
    const override = $("#override");
    const reason = $("#reason");
    if (root.dataset.gate === "failed" && !(override && override.checked)) { say(words.md_override_needed); return; }
    if (!window.confirm(words.md_confirm_promote.replace("{version}", version))) return;
    await act("POST", `/models/${version}/promote`, {
      override: Boolean(override && override.checked), reason: reason ? reason.value : "",
    });
  });
  document.body.dataset.ready = "true";
})();
