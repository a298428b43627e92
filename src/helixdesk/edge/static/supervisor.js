// The supervisor's live board: first-response SLA breaches now, quality alerts (open the
// conversation, acknowledge, reassign), model drift alarms (resolve), the agents and the queues,
// goodwill waiting for approval.
// Live over the console's event stream: `quality.alert` reloads the alerts, `handoff.*` the SLA
// watch, the queues and the agents; the SLA panel also ticks by itself every second.
(function () {
  "use strict";
  const H = window.Helix;
  if (!H || !document.getElementById("alerts")) return;
  const { $, api, make, label } = H;
  const words = JSON.parse($("#board-words").textContent);
  const ago = (iso) => {
    const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
    return s < 120 ? s + words.seconds : Math.floor(s / 60) + words.minutes;
  };
  const button = (text, cls) => { const b = make("button", cls || "", text); b.type = "button"; return b; };
  const link = (text, href) => { const a = make("a", "button", text); a.href = href; return a; };
  function empty(body, colspan, text) {
    const tr = make("tr", "board__empty"); const td = make("td", "", text); td.colSpan = colspan;
    tr.appendChild(td); body.replaceChildren(tr);
  }

  // ---- first-response SLAs now --------------------------------------------------------------------
  // The server lists every conversation still waiting for a person's first reply (in a queue, or
  // claimed with nothing said yet), each with when it was queued and its target. The panel ticks
  // every second against the server's clock, so a conversation crossing its target shows at once;
  // `handoff.*` events (queued, claimed, answered, ended) reload the list.
  const slaTable = $("#sla-breaches");
  const sla = { items: [], skew: 0, rows: new Map() };
  const span = (s) => {
    if (s < 120) return s + words.seconds;
    const m = Math.floor(s / 60); const r = s % 60;
    return m + words.minutes + (r ? " " + r + words.seconds : "");
  };
  async function loadSla() {
    const asked = Date.now();
    const data = await api("GET", "/sla/breaches");
    sla.skew = new Date(data.as_of).getTime() - (asked + Date.now()) / 2;
    sla.items = data.breaches.concat(data.upcoming).map((i) => Object.assign({}, i, {
      due: new Date(i.created_at).getTime() + i.sla_seconds * 1000,
    }));
    renderSla();
  }
  function slaRow(i) {
    const tr = make("tr", "sla-row sla-row--" + i.status); tr.dataset.handoff = i.handoff_id;
    tr.dataset.conversation = i.conversation_id; tr.dataset.queue = i.queue;
    tr.dataset.status = i.status;
    const queue = make("td"); queue.appendChild(make("span", "tag tag--" + i.queue, label("queue", i.queue)));
    const tier = make("td");
    if (i.tier) tier.appendChild(make("span", "tag tier tier--" + i.tier, label("tier", i.tier)));
    const state = make("td", "", words.sla_status[i.status] || i.status);
    if (i.agent_name) state.appendChild(make("span", "muted", " · " + i.agent_name));
    const open = make("td"); open.appendChild(link(words.open, i.url));
    [queue, make("td", "", i.customer_label || "—"), tier, state, make("td", "sla__waited"),
     make("td", "sla__target", span(i.sla_seconds)), make("td", "sla__over"), open].forEach((c) => tr.appendChild(c));
    return tr;
  }
  function renderSla() {
    const now = Date.now() + sla.skew;
    const over = sla.items.filter((i) => now > i.due).sort((a, b) => a.due - b.due);
    const body = $("tbody", slaTable);
    const count = $("#sla-count");
    count.textContent = over.length;
    count.classList.toggle("count--on", over.length > 0);
    const perQueue = {};
    over.forEach((i) => { perQueue[i.queue] = (perQueue[i.queue] || 0) + 1; });
    document.querySelectorAll("#sla-by-queue li").forEach((li) => {
      const n = perQueue[li.dataset.queue] || 0;
      li.dataset.count = n; $(".n", li).textContent = n;
    });
    if (!over.length) {
      sla.rows.clear();
      if (!$("tr.board__empty", body)) empty(body, 8, slaTable.dataset.empty);
      return;
    }
    const keep = new Set(over.map((i) => i.handoff_id));
    for (const [id, tr] of sla.rows) if (!keep.has(id)) { tr.remove(); sla.rows.delete(id); }
    const placeholder = $("tr.board__empty", body);
    if (placeholder) placeholder.remove();
    over.forEach((i, n) => {
      let tr = sla.rows.get(i.handoff_id);
      if (tr && tr.dataset.status !== i.status) { tr.remove(); tr = null; }  // claimed since
      if (!tr) { tr = slaRow(i); sla.rows.set(i.handoff_id, tr); }
      const waited = Math.max(0, Math.floor((now - (i.due - i.sla_seconds * 1000)) / 1000));
      $(".sla__waited", tr).textContent = span(waited);
      $(".sla__over", tr).textContent = "+" + span(Math.max(0, waited - i.sla_seconds));
      if (body.children[n] !== tr) body.insertBefore(tr, body.children[n] || null);
    });
  }
  setInterval(renderSla, 1000);

  // ---- alerts -------------------------------------------------------------------------------------
  const alerts = $("#alerts");
  async function loadAlerts() {
    const data = await api("GET", "/alerts?status=open");
    const body = $("tbody", alerts);
    if (!data.alerts.length) { empty(body, 6, alerts.dataset.empty); return; }
    body.replaceChildren();
    for (const a of data.alerts) {
      const tr = make("tr", "alert alert--" + a.severity);
      tr.dataset.alert = a.id; tr.dataset.conversation = a.conversation_id; tr.dataset.created = a.created_at;
      const sev = make("td"); sev.appendChild(make("span", "sev sev--" + a.severity, words.severity[a.severity] || a.severity));
      const why = make("td", "alert__reason", a.reason);
      if (a.evidence) { why.append(" "); why.appendChild(make("q", "muted", a.evidence)); }
      const queue = make("td");
      if (a.queue) queue.appendChild(make("span", "tag tag--" + a.queue, label("queue", a.queue)));
      const acts = make("td", "alert__actions");
      acts.appendChild(link(words.open, "/console/conversations/" + a.conversation_id));
      const ack = button(words.acknowledge, "ack"); const move = button(words.reassign, "reassign");
      acts.append(" ", ack, " ", move);
      [sev, why, queue, make("td", "", a.agent_name || "—"), make("td", "alert__age", ago(a.created_at)), acts]
        .forEach((c) => tr.appendChild(c));
      body.appendChild(tr);
    }
  }
  async function acknowledge(id, note) {
    await api("POST", `/alerts/${id}/acknowledge`, { note: note || "" });
  }
  alerts.addEventListener("click", async (e) => {
    const row = e.target.closest("tr.alert");
    if (!row) return;
    if (e.target.closest("button.ack")) {
      e.target.disabled = true;
      try { await acknowledge(row.dataset.alert); row.remove(); if (!$("tr.alert", alerts)) loadAlerts(); }
      catch (err) { e.target.disabled = false; }
    } else if (e.target.closest("button.reassign")) {
      const next = row.nextElementSibling;
      if (next && next.classList.contains("alert__form")) { next.remove(); return; }
      const tr = make("tr", "alert__form"); const td = make("td"); td.colSpan = 6;
      td.appendChild($("#reassign-form").content.cloneNode(true)); tr.appendChild(td);
      row.after(tr);
      $("form", tr).addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const f = new FormData(ev.target);
        const body = { queue: f.get("queue") || null, to_username: f.get("to_username") || null, note: f.get("note") || "" };
        await api("POST", `/conversations/${row.dataset.conversation}/reassign`, body);
        // The supervisor acted on the alert: it is acknowledged with what was done.
        await acknowledge(row.dataset.alert, `${words.reassigned}: ${body.to_username || label("queue", body.queue)}`);
        H.say(words.reassigned);
        tr.remove(); loadAlerts(); loadQueue();
      });
    }
  });

  // ---- agents and queues ----------------------------------------------------------------------------
  async function loadAgents() {
    const data = await api("GET", "/agents");
    const body = $("#agents tbody");
    body.replaceChildren();
    for (const a of data.agents.sort((x, y) => y.load - x.load)) {
      const tr = make("tr"); tr.dataset.agent = a.username;
      const who = make("td", "", a.display_name + " "); who.appendChild(make("span", "muted", a.username));
      const roles = make("td"); a.roles.forEach((r) => roles.appendChild(make("span", "tag", label("role", r))));
      const load = make("td"); load.appendChild(make("span", "load" + (a.break_suggested ? " load--high" : ""), a.load.toFixed(2)));
      const rest = make("td");
      if (a.break_suggested) rest.appendChild(make("span", "tag tag--late", words.break));
      [who, roles, make("td", "", label("presence", a.presence)), make("td", "", `${a.active}/${a.max_concurrent}`),
       load, make("td", "", a.intense_in_a_row), rest].forEach((c) => tr.appendChild(c));
      body.appendChild(tr);
    }
  }
  async function loadQueue() {
    const data = await api("GET", "/queue?lang=" + document.body.dataset.lang);
    const body = $("#board-queue tbody");
    if (!data.items.length) { empty(body, 7, words.empty_queue); return; }
    body.replaceChildren();
    for (const i of data.items) {
      const tr = make("tr"); tr.dataset.conversation = i.conversation_id;
      const prio = make("td"); prio.appendChild(make("span", "prio" + (i.effective_priority >= 80 ? " prio--high" : ""), i.effective_priority));
      const queue = make("td"); queue.appendChild(make("span", "tag tag--" + i.queue, i.queue_label));
      const open = make("td"); open.appendChild(link(words.open, "/console/conversations/" + i.conversation_id));
      [prio, queue, make("td", "", i.customer_label), make("td", "", words.handoff_status[i.status] || i.status),
       make("td", "", i.waiting_seconds + words.seconds), make("td", "queue__why", i.explanation), open]
        .forEach((c) => tr.appendChild(c));
      body.appendChild(tr);
    }
  }

  // ---- goodwill waiting for a decision ------------------------------------------------------------
  const waiting = $("#goodwill-waiting");
  async function loadGoodwill() {
    const data = await api("GET", "/goodwill");
    waiting.replaceChildren();
    if (!data.goodwill.length) { waiting.appendChild(make("li", "muted", waiting.dataset.empty)); return; }
    for (const g of data.goodwill) {
      const li = make("li", "goodwill"); li.dataset.credit = g.id;
      li.appendChild(make("strong", "", `${g.amount} ${g.currency}`));
      li.append(` · ${label("goodwill_reason", g.reason)} · ${g.requested_by}${g.note ? " · " + g.note : ""} `);
      li.append(link(words.open, "/console/conversations/" + g.conversation_id), " ",
                button(words.approve, "approve primary"), " ", button(words.reject, "reject"));
      waiting.appendChild(li);
    }
  }
  waiting.addEventListener("click", async (e) => {
    const b = e.target.closest("button"); const li = e.target.closest("li.goodwill");
    if (!b || !li) return;
    b.disabled = true;
    try {
      await api("POST", `/goodwill/${li.dataset.credit}/${b.classList.contains("approve") ? "approve" : "reject"}`, {});
      li.remove();
    } catch (err) { b.disabled = false; }
    if (!$("li.goodwill", waiting)) loadGoodwill();
  });

  // ---- model drift --------------------------------------------------------------------------------
  // Open drift alarms of the bot's understanding (helixdesk.drift): a measure of a day beyond its
  // threshold against the reference. Judged once a minute by the drift process, so they are
  // reloaded with the rest of the board; "resolve" records that someone has looked into it.
  const drift = $("#drift-alarms");
  const dw = words.drift;
  const share = (v) => (v * 100).toFixed(1) + "%";
  const figure = (measure, v) => (measure === "intent_shift" ? Number(v).toFixed(3) : share(v));
  function driftDetail(a) {
    const items = a.detail || [];
    if (!items.length) return "";
    if (a.measure === "new_vocabulary") return dw.words + ": " + items.map((d) => d.token).join("、");
    if (a.measure === "intent_shift") {
      return dw.intents + ": " + items.map((d) => (dw.intent_labels[d.intent] || d.intent) + " " + share(d.share)).join("、");
    }
    return "";
  }
  async function loadDrift() {
    const data = await api("GET", "/drift/alarms?status=open");
    const body = $("tbody", drift);
    const count = $("#drift-count");
    count.textContent = data.alarms.length;
    count.classList.toggle("count--on", data.alarms.length > 0);
    if (!data.alarms.length) { empty(body, 7, drift.dataset.empty); return; }
    body.replaceChildren();
    for (const a of data.alarms) {
      const tr = make("tr", "drift-alarm"); tr.dataset.alarm = a.id; tr.dataset.measure = a.measure;
      const change = a.measure === "intent_shift"
        ? "JSD " + figure(a.measure, a.value)
        : figure(a.measure, a.reference) + " → " + figure(a.measure, a.value);
      const acts = make("td", "drift__actions");
      const note = make("input", "drift__note"); note.maxLength = 1000; note.size = 14; note.placeholder = dw.note;
      note.setAttribute("aria-label", dw.note);
      acts.append(note, " ", button(dw.resolve, "resolve"));
      [make("td", "", a.day), make("td", "drift__measure", dw.measure[a.measure] || a.measure),
       make("td", "", a.scope === "all" ? dw.all : label("language", a.scope)), make("td", "drift__change", change),
       make("td", "drift__detail", driftDetail(a)),
       make("td", "", (dw.reference[a.reference_kind] || a.reference_kind) + " · " + dw.messages + " " + a.messages), acts]
        .forEach((c) => tr.appendChild(c));
      body.appendChild(tr);
    }
  }
  drift.addEventListener("click", async (e) => {
    const b = e.target.closest("button.resolve"); const row = e.target.closest("tr.drift-alarm");
    if (!b || !row) return;
    b.disabled = true;
    try {
      await api("POST", `/drift/alarms/${row.dataset.alarm}/resolve`, { note: $(".drift__note", row).value || "" });
      row.remove();
      loadDrift();
    } catch (err) { b.disabled = false; }
  });

  // ---- live ---------------------------------------------------------------------------------------
  function loadAll() { loadSla(); loadAlerts(); loadAgents(); loadQueue(); loadGoodwill(); loadDrift(); }
  H.listen("", (type) => {
    if (type === "quality.alert") loadAlerts();
    if (type.startsWith("handoff.")) { loadSla(); loadQueue(); loadAgents(); }
  }, loadAll);
  loadAll();
  // Ages, waiting times and presence move even without events.
  setInterval(loadAll, 15000);
})();
