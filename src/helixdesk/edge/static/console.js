// Agent console: queue, conversation, drafts. Live updates over server-sent events.
(function () {
  "use strict";
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const csrf = $('meta[name="csrf-token"]').content;
  const flash = $("#flash");
  // The words for codes this script shows (one labels table, worded by the server in the person's
  // language) and for the refusals it explains.
  const words = JSON.parse($("#console-words").textContent);
  const label = (group, code) => (words.labels[group] || {})[code] || code;

  function say(message) { flash.textContent = message || ""; flash.hidden = !message; }

  // A call to the console's API: the response, once a refusal has been said (and thrown).
  async function call(method, path, body) {
    const init = { method, headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    const r = await fetch("/console/api" + path, init);
    if (r.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); throw new Error("sign in"); }
    if (!r.ok) {
      const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
      const m = data.error ? words.errors[data.error.code] || data.error.message : r.statusText;
      say(m); throw new Error(m);
    }
    if (method !== "GET") say("");  // a refresh after a refusal keeps the refusal on screen
    return r;
  }

  async function api(method, path, body) {
    const r = await call(method, path, body);
    return (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
  }

  function text(el, value) { el.textContent = value == null ? "" : String(value); return el; }
  function make(tag, cls, value) { const el = document.createElement(tag); if (cls) el.className = cls; if (value !== undefined) text(el, value); return el; }

  // ---- presence --------------------------------------------------------------------------------
  const presence = $("#presence");
  if (presence) presence.addEventListener("change", async () => {
    await api("POST", "/presence", { presence: presence.value });
    const note = $("#presence-note");
    if (note) note.hidden = presence.value === "online";
  });

  // ---- live events -----------------------------------------------------------------------------
  // The browser reconnects by itself (after a dropped connection, or when the server ends the
  // stream with "reconnect" as it shuts down) and sends the id of the last event it saw, so the
  // server replays what was missed. "resync": too much was missed to replay, so the view is
  // loaded again from the server.
  // The page says which event its data is as of (`data-events-after`): the stream starts there, so
  // an event that happened while the page loaded still arrives.
  function listen(query, onEvent, onResync) {
    const after = document.body.dataset.eventsAfter;
    const params = [query, after ? "after=" + encodeURIComponent(after) : ""].filter(Boolean).join("&");
    const source = new EventSource("/console/api/events" + (params ? "?" + params : ""));
    ["handoff.queued", "handoff.claimed", "handoff.answered", "handoff.ended", "message.received", "reply.sent", "message.sent",
     "conversation.state_changed", "note.whispered", "quality.alert"].forEach((type) => {
      source.addEventListener(type, (e) => {
        const data = JSON.parse(e.data);
        onEvent(type, data);
        // Other console scripts (intervene.js) react to the same stream.
        document.dispatchEvent(new CustomEvent("helix:event", { detail: { type, data } }));
      });
    });
    source.addEventListener("resync", () => onResync());
    source.addEventListener("signed_out", () => { source.close(); location.href = "/console/login"; });
    return source;
  }
  // What the other console scripts (supervisor.js, intervene.js) build on.
  window.Helix = { $, $$, api, call, say, text, make, label, words, listen };

  // ---- the queue -------------------------------------------------------------------------------
  const queueTable = $("#queue");
  if (queueTable) {
    const labels = $("#row-labels").dataset;
    const waited = (s) => (s < 120 ? s + labels.s : Math.floor(s / 60) + labels.min);
    async function refresh() {
      const data = await api("GET", "/queue?lang=" + document.body.dataset.lang);
      const body = $("tbody", queueTable);
      body.replaceChildren();
      if (!data.items.length) {
        const tr = make("tr", "queue__empty"); const td = make("td", "", queueTable.dataset.empty);
        td.colSpan = 8; tr.appendChild(td); body.appendChild(tr); return;
      }
      for (const i of data.items) {
        const tr = make("tr", `queue__row queue__row--${i.status}` + (i.offered_to_me ? " queue__row--offered" : ""));
        tr.dataset.handoff = i.handoff_id; tr.dataset.conversation = i.conversation_id;
        const prio = make("span", "prio" + (i.effective_priority >= 80 ? " prio--high" : ""), i.effective_priority);
        const q = make("span", "tag tag--" + i.queue, i.queue_label);
        const reason = make("td", "", i.reason_label);
        if (i.offered_to_me) { reason.append(" "); reason.appendChild(make("span", "tag tag--offer", labels.offered)); }
        const wait = make("td", "", waited(i.waiting_seconds));
        if (i.status === "waiting" && i.waiting_seconds > i.sla_seconds) { wait.append(" "); wait.appendChild(make("span", "tag tag--late", labels.late)); }
        const action = make("td");
        if (i.status === "waiting") {
          const b = make("button", "claim", labels.claim); b.type = "button"; b.dataset.handoff = i.handoff_id; action.appendChild(b);
        } else {
          const a = make("a", "button", labels.open); a.href = "/console/conversations/" + i.conversation_id; action.appendChild(a);
        }
        const cells = [make("td"), make("td"), make("td", "", i.customer_label), make("td", "", i.intent_label || "—"), reason, wait,
                       make("td", "queue__why", i.explanation), action];
        cells[0].appendChild(prio); cells[1].appendChild(q);
        cells.forEach((c) => tr.appendChild(c));
        body.appendChild(tr);
      }
    }
    queueTable.addEventListener("click", async (e) => {
      const button = e.target.closest("button.claim");
      if (!button) return;
      button.disabled = true;
      try {
        const item = await api("POST", `/handoffs/${button.dataset.handoff}/claim`);
        location.href = "/console/conversations/" + item.conversation_id;
      } catch (err) { button.disabled = false; refresh(); }
    });
    $("#claim-next").addEventListener("click", async () => {
      try { const item = await api("POST", "/claim-next"); location.href = "/console/conversations/" + item.conversation_id; }
      catch (err) { refresh(); }
    });
    listen("", () => refresh(), () => refresh());
    setInterval(refresh, 15000);  // waiting times and priorities move even without events
  }

  // ---- one conversation ------------------------------------------------------------------------
  const conv = $("#conv");
  if (conv) {
    const id = conv.dataset.conversation;
    const transcript = $("#transcript");
    const seen = new Set($$("li", transcript).map((li) => Number(li.dataset.seq)));
    function addLine(m) {
      if (seen.has(m.seq)) return;
      seen.add(m.seq);
      const li = make("li", "line line--" + m.sender); li.dataset.seq = m.seq;
      li.appendChild(make("span", "line__who", m.author || label("sender", m.sender)));
      li.appendChild(make("span", "line__text", m.text));
      const who = li.firstChild;
      who.append(" ");
      const channel = make("span", "line__channel", "· " + label("channel", conv.dataset.channel));
      channel.dataset.channel = conv.dataset.channel;
      who.appendChild(channel);
      if (m.image) {
        li.appendChild(make("span", "line__image", "🖼 " + m.image.text));
        li.appendChild(originalButton(`/conversations/${id}/images/${m.id}`, "image"));
      }
      // A voice message: its text is the transcript; this says it was spoken, and how long.
      if (m.voice) {
        const sure = `${transcript.dataset.voiceConfidence} ${Math.round(m.voice.confidence * 100)}%`;
        li.appendChild(make("span", "line__voice", `🎤 ${transcript.dataset.voice} · ${Math.round(m.voice.duration_s)} s · ${sure}`));
        li.appendChild(originalButton(`/conversations/${id}/audio/${m.id}`, "audio"));
      }
      const after = $$("li", transcript).find((el) => Number(el.dataset.seq) > m.seq);
      transcript.insertBefore(li, after || null);
      transcript.scrollTop = transcript.scrollHeight;
      if (m.sender === "customer") loadSuggestions();
    }
    function setState(state, mine) {
      conv.dataset.state = state;
      text($("#conv-state"), label("conversation_state", state));
      const working = mine && state === "with_agent";
      $("#composer").hidden = !working; $("#actions").hidden = !working;
    }
    async function loadSuggestions() {
      const list = $("#suggestions");
      const data = await api("GET", `/conversations/${id}/suggestions`);
      list.replaceChildren();
      for (const s of data.suggestions) {
        const li = make("li", "suggestion suggestion--" + s.kind);
        if (s.title && s.kind === "knowledge") li.appendChild(make("strong", "", s.title));
        li.appendChild(make("p", "", s.text));
        const use = make("button", "", list.dataset.use); use.type = "button";
        use.addEventListener("click", () => { const r = $("#reply"); r.value = (r.value ? r.value + "\n" : "") + s.text; r.focus(); });
        li.appendChild(use);
        list.appendChild(li);
      }
    }
    // A masked value is shown only for a stated reason, and every reveal is audited.
    transcript.addEventListener("click", async (e) => {
      const button = e.target.closest("button.reveal");
      if (!button) return;
      const reason = window.prompt($("#reveal-labels").dataset.prompt, "");
      if (!reason || !reason.trim()) return;
      const shown = await api("POST", `/conversations/${id}/reveal`,
        { message_id: button.dataset.message, span_index: Number(button.dataset.span), reason: reason.trim() });
      const value = make("span", "revealed", shown.value);
      button.replaceWith(value);
    });
    // The original of an image (or other media) the customer sent opens only for a stated reason:
    // each opening is audited, and the original is shown here, in the page, not kept.
    const originalWords = $("#original-labels").dataset;
    function originalButton(url, media) {
      const b = make("button", "open-original", originalWords.open); b.type = "button";
      b.dataset.url = url; b.dataset.media = media; b.setAttribute("aria-expanded", "false");
      return b;
    }
    transcript.addEventListener("click", (e) => {
      const button = e.target.closest("button.open-original");
      if (!button) return;
      const open = button.nextElementSibling && button.nextElementSibling.matches("form.original-reason");
      if (open) { button.nextElementSibling.remove(); button.setAttribute("aria-expanded", "false"); return; }
      const form = make("form", "original-reason");
      const field = make("label", "", originalWords.reason + " ");
      const reason = make("input"); reason.name = "reason"; reason.required = true;
      reason.minLength = 4; reason.maxLength = 500; reason.autocomplete = "off";
      field.appendChild(reason);
      const submit = make("button", "", originalWords.submit); submit.type = "submit";
      form.append(field, submit);
      button.after(form); button.setAttribute("aria-expanded", "true"); reason.focus();
    });
    transcript.addEventListener("submit", async (e) => {
      const form = e.target.closest("form.original-reason");
      if (!form) return;
      e.preventDefault();
      const button = form.previousElementSibling;
      const reason = form.elements.reason.value;  // as typed: the server says when it is no reason
      let r;
      try { r = await call("POST", button.dataset.url, { reason }); } catch (err) { form.elements.reason.focus(); return; }
      // As a data: URL (the page's content security policy allows no blob: images).
      const src = await new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result); reader.onerror = () => reject(reader.error);
        r.blob().then((blob) => reader.readAsDataURL(blob), reject);
      });
      const figure = make("figure", "line__original");
      const shown = button.dataset.media === "audio" ? make("audio") : make("img");
      if (button.dataset.media === "audio") shown.controls = true; else shown.alt = originalWords.alt;
      shown.src = src;
      figure.append(shown, make("figcaption", "", originalWords.opened));
      form.replaceWith(figure);
      button.remove();
    });
    const claimButton = $("#claim");
    if (claimButton) claimButton.addEventListener("click", async () => {
      claimButton.disabled = true;
      try { await api("POST", `/handoffs/${claimButton.dataset.handoff}/claim`); location.reload(); }
      catch (err) { claimButton.disabled = false; }
    });
    $("#composer").addEventListener("submit", async (e) => {
      e.preventDefault();
      const box = $("#reply"); const value = box.value.trim();
      if (!value) return;
      // A draft the quality check flagged goes only with the agent's reason (compose-check.js).
      const qa = window.helixdeskQa;
      const body = { text: value };
      const reason = qa ? qa.reason() : "";
      if (reason) body.override_reason = reason;
      let data;
      try { data = await api("POST", `/conversations/${id}/messages`, body); }
      catch (err) { if (qa) qa.check(); return; }
      box.value = ""; if (qa) qa.clear(); addLine(data.message);
    });
    $("#reply").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); $("#composer").requestSubmit(); }
    });
    $("#note-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const box = $("#note"); const note = await api("POST", `/conversations/${id}/notes`, { text: box.value });
      const li = make("li"); li.appendChild(make("strong", "", note.author)); li.append(" " + note.text);
      $("#notes").appendChild(li); box.value = "";
    });
    $("#transfer").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      const body = { queue: f.get("queue") || null, to_username: f.get("to_username") || null };
      await api("POST", `/conversations/${id}/transfer`, body);
      location.href = "/console";
    });
    $("#hand-back").addEventListener("click", async () => { await api("POST", `/conversations/${id}/hand-back`); location.href = "/console"; });
    $("#wrap-up").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      await api("POST", `/conversations/${id}/wrap-up`, { disposition: f.get("disposition"), resolution: f.get("resolution") });
      location.href = "/console";
    });
    $("#draft-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      await api("POST", "/drafts", { question: f.get("question"), answer: f.get("answer"),
                                    language: conv.dataset.language, conversation_id: id });
      e.target.reset(); say(e.target.dataset.saved);
    });
    listen("conversation=" + encodeURIComponent(id), async (type, event) => {
      if (event.message) addLine(event.message);
      if (type === "conversation.state_changed") {
        const me = document.body.dataset.user;
        const data = await api("GET", `/conversations/${id}`);
        setState(event.new_state, data.mine || (data.handoff && data.handoff.agent_id === me));
      }
    }, () => location.reload());
    transcript.scrollTop = transcript.scrollHeight;
    loadSuggestions();
  }

  // ---- knowledge drafts ------------------------------------------------------------------------
  $$("button.review").forEach((b) => b.addEventListener("click", async () => {
    await api("POST", `/drafts/${b.dataset.draft}/review`, { approve: b.dataset.approve === "true" });
    b.closest("li").remove();
  }));

  // Every control above has its handler: say so (browser tests wait for it before they click).
  document.body.dataset.ready = "true";
})();
