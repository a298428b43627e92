// Interventions: on a conversation page, a supervisor's reassign and whisper, whispers shown live to
// the agent, goodwill within the pack's limits and follow-up tasks; on the queue page, "my
// follow-ups" with a button to mark each done. Builds on console.js (window.Helix).
(function () {
  "use strict";
  const H = window.Helix;
  const wordsEl = document.getElementById("intervene-words");
  if (!H || !wordsEl) return;
  const { $, api, make, label, say } = H;
  const words = JSON.parse(wordsEl.textContent);
  // Times come in the bank's local time (as the rest of the console shows them).
  const when = (iso) => iso.slice(0, 16).replace("T", " ");
  const button = (text, cls) => { const b = make("button", cls || "", text); b.type = "button"; return b; };
  const form = (e) => Object.fromEntries(new FormData(e.target).entries());
  function followUpLine(f) {
    const li = make("li", "follow-up" + (f.overdue ? " follow-up--overdue" : "")); li.dataset.followUp = f.id;
    li.appendChild(make("strong", "", f.title));
    li.append(` · ${words.owner} ${f.owner_name} · ${words.due} ${when(f.due_at)}`);
    if (f.overdue) { li.append(" "); li.appendChild(make("span", "tag tag--late", words.overdue)); }
    if (f.raised) li.append(` · ${words.told} ${f.raised}`);
    if (f.status !== "open") li.append(` · ${words.done}`);
    return li;
  }

  // ---- one conversation ---------------------------------------------------------------------------
  const conv = document.getElementById("conv");
  if (conv) {
    const id = conv.dataset.conversation;
    const me = document.body.dataset.user;

    // Whispers arrive live (the stream passes them only to their agent and to supervisors here).
    const whispers = $("#whispers");
    document.addEventListener("helix:event", (e) => {
      const { type, data } = e.detail;
      if (type !== "note.whispered" || data.conversation_id !== id) return;
      if (data.to_agent_id !== me && !words.supervisor) return;
      const li = make("li", "whisper"); li.dataset.note = data.note_id;
      if ($(`li[data-note="${data.note_id}"]`, whispers)) return;
      li.appendChild(make("strong", "", data.author_name)); li.append(" " + data.text);
      $("#whisper-list").appendChild(li);
      whispers.hidden = false;
    });

    const reassign = $("#reassign-form");
    if (reassign) reassign.addEventListener("submit", async (e) => {
      e.preventDefault();
      const f = form(e);
      await api("POST", `/conversations/${id}/reassign`,
        { queue: f.queue || null, to_username: f.to_username || null, note: f.note || "" });
      say(words.reassigned);
      location.reload();
    });
    const whisper = $("#whisper-form");
    if (whisper) whisper.addEventListener("submit", async (e) => {
      e.preventDefault();
      const note = await api("POST", `/conversations/${id}/whisper`, { text: form(e).text });
      const li = make("li", "whisper"); li.dataset.note = note.id;
      li.appendChild(make("strong", "", note.author)); li.append(" " + note.text);
      if (!$(`li[data-note="${note.id}"]`, whispers)) $("#whisper-list").appendChild(li);
      whispers.hidden = false; e.target.reset();
    });

    const goodwillList = $("#goodwill-list");
    async function loadGoodwill() {
      const data = await api("GET", `/conversations/${id}/goodwill`);
      goodwillList.replaceChildren();
      for (const g of data.goodwill) {
        const li = make("li", "goodwill goodwill--" + g.status); li.dataset.credit = g.id;
        li.appendChild(make("strong", "", `${g.amount} ${g.currency}`));
        li.append(` · ${label("goodwill_reason", g.reason)} · ${label("goodwill_status", g.status)} · ${words.by} ${g.decided_by || g.requested_by}`);
        if (g.status === "pending" && words.supervisor) {
          li.append(" "); li.appendChild(button(words.approve, "approve primary"));
          li.append(" "); li.appendChild(button(words.reject, "reject"));
        }
        goodwillList.appendChild(li);
      }
    }
    if (goodwillList) {
      goodwillList.addEventListener("click", async (e) => {
        const b = e.target.closest("button"); const li = e.target.closest("li.goodwill");
        if (!b || !li) return;
        b.disabled = true;
        try { await api("POST", `/goodwill/${li.dataset.credit}/${b.classList.contains("approve") ? "approve" : "reject"}`, {}); }
        finally { loadGoodwill(); }
      });
      const grant = $("#goodwill-form");
      if (grant) grant.addEventListener("submit", async (e) => {
        e.preventDefault();
        const f = form(e);
        try { await api("POST", `/conversations/${id}/goodwill`, { amount: f.amount, reason: f.reason, note: f.note || "" }); e.target.reset(); }
        finally { loadGoodwill(); }
      });
      loadGoodwill();
    }

    const followUps = $("#follow-up-list");
    async function loadFollowUps() {
      const data = await api("GET", `/conversations/${id}/follow-ups`);
      followUps.replaceChildren(...data.follow_ups.map(followUpLine));
    }
    if (followUps) {
      $("#follow-up-form").addEventListener("submit", async (e) => {
        e.preventDefault();
        const f = form(e);
        await api("POST", `/conversations/${id}/follow-ups`,
          { title: f.title, owner: f.owner || null, due_at: f.due_at });
        e.target.reset(); loadFollowUps();
      });
      loadFollowUps();
    }
  }

  // ---- my follow-ups (the queue page) -------------------------------------------------------------
  const mine = document.getElementById("follow-ups");
  if (mine) {
    async function loadMine() {
      const data = await api("GET", "/follow-ups");
      const body = $("tbody", mine);
      if (!data.follow_ups.length) {
        const tr = make("tr", "board__empty"); const td = make("td", "", mine.dataset.empty); td.colSpan = 6;
        tr.appendChild(td); body.replaceChildren(tr); return;
      }
      body.replaceChildren();
      for (const f of data.follow_ups) {
        const tr = make("tr", "follow-up" + (f.overdue ? " follow-up--overdue" : "")); tr.dataset.followUp = f.id;
        const due = make("td", "", when(f.due_at));
        if (f.overdue) { due.append(" "); due.appendChild(make("span", "tag tag--late", words.overdue)); }
        const acts = make("td");
        if (f.conversation_id) {
          const a = make("a", "button", words.open); a.href = "/console/conversations/" + f.conversation_id; acts.appendChild(a);
        }
        acts.append(" "); acts.appendChild(button(words.done, "done"));
        const who = make("td", "", f.customer_ref || "—");
        if (f.channel) { who.append(" "); who.appendChild(make("span", "tag", label("channel", f.channel))); }
        [due, who, make("td", "", f.title), make("td", "", f.created_by || "—"), make("td", "", f.raised), acts]
          .forEach((c) => tr.appendChild(c));
        body.appendChild(tr);
      }
    }
    mine.addEventListener("click", async (e) => {
      const b = e.target.closest("button.done"); const tr = e.target.closest("tr.follow-up");
      if (!b || !tr) return;
      b.disabled = true;
      try { await api("POST", `/follow-ups/${tr.dataset.followUp}/done`, {}); } finally { loadMine(); }
    });
    loadMine();
    setInterval(loadMine, 30000);  // the bot telling a returning customer moves the count
  }
})();
