// The knowledge workspace: upload with progress, try a question, edit, date, retire and roll back an
// entry. Builds on console.js (window.Helix); calls /console/api/kb/... with the session's CSRF token.
(function () {
  "use strict";
  const { $, $$, api, say, make, text } = window.Helix;
  const csrf = $('meta[name="csrf-token"]').content;
  const kb = JSON.parse($("#kb-words").textContent);
  const w = (key) => kb.words[key] || key;
  const refusal = (error) => (error ? (kb.errors[error.code] || error.message || error.detail) : "");

  // ---- dates: datetime-local inputs are in the browser's time; the API takes and gives UTC ----------
  const pad = (n) => String(n).padStart(2, "0");
  function localValue(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const utcValue = (local) => (local ? new Date(local).toISOString() : null);
  $$("input[type=datetime-local][data-utc]").forEach((input) => { input.value = localValue(input.dataset.utc); });

  function validityBody(form) {
    return { valid_from: utcValue(form.elements.valid_from.value), valid_until: utcValue(form.elements.valid_until.value) };
  }

  // ---- upload: the bytes' progress (XHR), then the ingestion job's (polled) ------------------------
  const upload = $("#kb-upload");
  if (upload) {
    const status = $("#kb-upload-status");
    const sendBar = $("#kb-upload-bar");
    const ingestBar = $("#kb-ingest-bar");
    function send(file) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", "/console/api/kb/uploads?filename=" + encodeURIComponent(file.name));
        xhr.setRequestHeader("X-CSRF-Token", csrf);
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.upload.addEventListener("progress", (e) => {
          if (e.lengthComputable) sendBar.value = Math.round((100 * e.loaded) / e.total);
        });
        xhr.addEventListener("load", () => {
          let data = {};
          try { data = JSON.parse(xhr.responseText); } catch (err) { data = {}; }
          if (xhr.status === 202) { sendBar.value = 100; resolve(data); }
          else reject(new Error(refusal(data.error) || xhr.statusText));
        });
        xhr.addEventListener("error", () => reject(new Error(xhr.statusText || "network error")));
        xhr.send(file);
      });
    }
    async function follow(job) {
      for (;;) {
        status.dataset.state = job.status;
        if (job.stage) {
          status.textContent = w("kb_stage_" + job.stage) + (job.total ? ` ${job.done}/${job.total}` : "");
          ingestBar.max = Math.max(job.total, 1); ingestBar.value = job.done;
        } else if (job.status === "queued") status.textContent = w("kb_stage_queued");
        if (job.status === "done" || job.status === "failed") return job;
        await new Promise((r) => setTimeout(r, 300));
        job = await api("GET", "/kb/uploads/" + job.id);
      }
    }
    upload.addEventListener("submit", async (e) => {
      e.preventDefault();
      const file = $("#kb-file").files[0];
      if (!file) return;
      const button = $("button[type=submit]", upload);
      button.disabled = true;
      $("#kb-progress").hidden = false;
      sendBar.value = 0; ingestBar.value = 0;
      status.dataset.state = "uploading"; status.textContent = "";
      try {
        const job = await follow(await send(file));
        if (job.status === "failed") {
          status.textContent = `${w("kb_upload_failed")}: [${job.error.code}] ${refusal(job.error)} — ${job.error.detail}`;
        } else {
          ingestBar.max = 1; ingestBar.value = 1;
          const report = job.report;
          status.textContent = report.unchanged.length ? w("kb_upload_unchanged")
            : w("kb_upload_done").replace("{chunks}", report.chunks);
          if (report.document_id) {
            status.append(" ");
            const a = make("a", "", w("kb_open_document"));
            a.href = "/console/knowledge/documents/" + report.document_id; a.id = "kb-uploaded-document";
            status.appendChild(a);
          }
        }
      } catch (err) {
        status.dataset.state = "failed";
        status.textContent = `${w("kb_upload_failed")}: ${err.message}`;
      } finally { button.disabled = false; }
    });
  }

  // ---- try a question: the bot's own answer path ---------------------------------------------------
  const tryForm = $("#kb-try");
  if (tryForm) {
    const fmt = (x) => (Math.round(x * 1000) / 1000).toFixed(3);
    tryForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const language = tryForm.elements.language.value || null;
      const r = await api("POST", "/kb/try", { text: tryForm.elements.text.value, language });
      $("#try-result").hidden = false;
      const verdict = $("#try-verdict");
      verdict.dataset.grounded = String(r.grounded);
      text(verdict, r.grounded ? w("kb_bot_answers") + ":" : w("kb_not_grounded"));
      const answer = $("#try-answer");
      answer.hidden = !r.grounded; text(answer, r.answer || "");
      text($("#try-citation"), r.citation ? `${w("kb_citation")}: ${r.citation.label}` : "");
      const intent = r.intent ? `${w("kb_nlu_intent")}: ${(kb.intents[r.intent.name] || r.intent.name)} (${fmt(r.intent.confidence)}) · ` : "";
      text($("#try-meta"), `${intent}${w("kb_confidence")}: ${fmt(r.confidence)} · ${w("kb_threshold")}: ${fmt(r.threshold)} · ${kb.languages[r.language] || r.language}`);
      const ex = $("#try-explanations");
      ex.replaceChildren();
      if (r.explanations.length) {
        ex.appendChild(make("h3", "", w("kb_explanations")));
        const ul = make("ul", "kb__graph");
        r.explanations.forEach((x) => ul.appendChild(make("li", "", `${w("kb_cause")}: ${x.cause} → ${w("kb_solution")}: ${x.solution}`)));
        ex.appendChild(ul);
      }
      const body = $("#try-candidates tbody");
      body.replaceChildren();
      r.candidates.forEach((c, i) => {
        const tr = make("tr"); tr.dataset.chunk = c.chunk_id;
        const q = make("td"); const a = make("a", "", c.question); a.href = "/console/knowledge/entries/" + c.chunk_id; q.appendChild(a);
        const cells = [make("td", "", i + 1), q, make("td", "", c.citation.label), make("td", "num confidence", fmt(c.scores.confidence)),
          make("td", "num", fmt(c.scores.rerank)), make("td", "num", fmt(c.scores.dense)), make("td", "num", fmt(c.scores.bm25)),
          make("td", "num", fmt(c.scores.fused))];
        cells.forEach((td) => tr.appendChild(td));
        body.appendChild(tr);
      });
    });
  }

  // ---- one entry: edit, validity, retire/restore, rollback (the page reloads to show the new version)
  const editor = $("#entry-form");
  if (editor) editor.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { questions: {}, answers: {}, alternatives: {} };
    $$("fieldset[data-language]", editor).forEach((set) => {
      const l = set.dataset.language;
      const q = editor.elements["question." + l].value.trim();
      const a = editor.elements["answer." + l].value.trim();
      const alts = editor.elements["alternatives." + l].value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (q) body.questions[l] = q;
      if (a) body.answers[l] = a;
      if (alts.length) body.alternatives[l] = alts;
    });
    await api("PUT", "/kb/entries/" + editor.dataset.entry, body);
    sessionStorage.setItem("kb-saved", "1");
    location.reload();
  });
  const saved = $("#entry-saved");
  if (saved && sessionStorage.getItem("kb-saved")) { sessionStorage.removeItem("kb-saved"); text(saved, w("kb_saved")); }

  const entryValidity = $("#entry-validity");
  if (entryValidity) entryValidity.addEventListener("submit", async (e) => {
    e.preventDefault();
    await api("PUT", `/kb/entries/${entryValidity.dataset.entry}/validity`, validityBody(entryValidity));
    location.reload();
  });
  const docValidity = $("#doc-validity");
  if (docValidity) docValidity.addEventListener("submit", async (e) => {
    e.preventDefault();
    await api("PUT", `/kb/documents/${docValidity.dataset.document}/validity`, validityBody(docValidity));
    location.reload();
  });
  const retire = $("#entry-retire");
  if (retire) retire.addEventListener("submit", async (e) => {
    e.preventDefault();
    await api("POST", `/kb/entries/${retire.dataset.entry}/retire`, { reason: retire.elements.reason.value });
    location.reload();
  });
  const restore = $("#entry-restore");
  if (restore) restore.addEventListener("click", async () => {
    await api("POST", `/kb/entries/${restore.dataset.entry}/restore`);
    location.reload();
  });
  $$("button.rollback").forEach((b) => b.addEventListener("click", async () => {
    b.disabled = true;
    try { await api("POST", `/kb/entries/${b.dataset.entry}/rollback`, { version: Number(b.dataset.version) }); location.reload(); }
    catch (err) { b.disabled = false; }
  }));
  if (!upload && !tryForm && !editor && !entryValidity && !docValidity) say("");
  document.body.dataset.kbReady = "true";
})();
