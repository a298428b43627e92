// The incident register: open an incident, edit it, resolve it, and open one from a suggested
// hotspot spike (or dismiss the spike). Builds on console.js (window.Helix); calls
// /console/api/incidents with the session's CSRF token and reloads the list after a change.
// The campaign panel starts and cancels an incident's campaign and refreshes its counts while it runs.
(function () {
  "use strict";
  const { $, $$ } = window.Helix;
  const csrf = $('meta[name="csrf-token"]').content;
  const words = JSON.parse($("#inc-words").textContent);
  const incidents = JSON.parse($("#inc-data").textContent);
  const spikes = JSON.parse($("#inc-spikes-data").textContent);
  const w = (key) => words.words[key] || key;
  const form = $("#inc-form");
  const message = $("#inc-message");
  const languages = ["zh-Hans", "zh-Hant", "en"];

  let shown = message;
  function tell(text, state) { shown.textContent = text || ""; shown.dataset.state = state || ""; }

  async function call(method, path, body, where) {
    shown = where || message;
    const r = await fetch("/console/api/incidents" + path, {
      method, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
    if (r.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); throw new Error("sign in"); }
    if (!r.ok) {
      const e = data.error || {};
      tell(`${words.errors[e.code] || e.code || r.statusText}: ${e.message || ""}`, "error");
      throw new Error(e.code || r.statusText);
    }
    return data;
  }

  // ---- dates: datetime-local inputs are in the browser's time; the API takes and gives UTC ----------
  const pad = (n) => String(n).padStart(2, "0");
  function localValue(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const utcValue = (local) => (local ? new Date(local).toISOString() : null);

  function texts(name) {
    const out = {};
    for (const l of languages) {
      const value = form.elements[`${name}.${l}`].value.trim();
      if (value) out[l] = value;
    }
    return out;
  }
  const ticked = (name) => $$(`input[name="${name}"]:checked`, form).map((box) => box.value);
  const regions = () => form.elements.regions.value.split(/[,，、;；\n]+/).map((r) => r.trim()).filter(Boolean);

  function body(editing) {
    const out = {
      kind: form.elements.kind.value,
      title: texts("title"),
      explanation: texts("explanation"),
      products: ticked("products"),
      channels: ticked("channels"),
      regions: regions(),
      expected_fix_at: utcValue(form.elements.expected_fix_at.value),
      status: form.elements.status.value,
    };
    const started = utcValue(form.elements.started_at.value);
    if (started || !editing) out.started_at = started;
    if (editing) out.version = Number(form.elements.version.value);
    if (!editing && form.elements.hotspot_id.value) {
      out.hotspot_id = form.elements.hotspot_id.value;
      out.note = form.elements.note.value.trim();
    }
    return out;
  }

  // ---- editing: the form takes the incident's values; cancelling empties it again -----------------
  function edit(incident) {
    form.reset();
    fromHotspot("");
    form.elements.id.value = incident.id;
    form.elements.version.value = incident.version;
    form.elements.kind.value = incident.kind;
    form.elements.status.value = incident.status;
    for (const l of languages) {
      form.elements[`title.${l}`].value = incident.title[l] || "";
      form.elements[`explanation.${l}`].value = incident.explanation[l] || "";
    }
    $$('input[type="checkbox"]', form).forEach((box) => {
      box.checked = (incident[box.name] || []).includes(box.value);
    });
    form.elements.regions.value = incident.regions.join(", ");
    form.elements.started_at.value = localValue(incident.started_at);
    form.elements.expected_fix_at.value = localValue(incident.expected_fix_at);
    $("#inc-form-title").textContent = w("inc_editing");
    $("#inc-cancel").hidden = false;
    tell("");
    form.scrollIntoView({ behavior: "smooth", block: "start" });
  }
  function fromHotspot(hotspotId) {
    const box = $("#inc-from-hotspot");
    form.elements.hotspot_id.value = hotspotId || "";
    box.hidden = !hotspotId;
    if (!hotspotId) form.elements.note.value = "";
  }
  function stopEditing() {
    form.reset();
    form.elements.id.value = "";
    form.elements.version.value = "";
    fromHotspot("");
    $("#inc-form-title").textContent = w("inc_new");
    $("#inc-cancel").hidden = true;
  }
  $("#inc-cancel").addEventListener("click", stopEditing);
  $$(".inc-edit").forEach((button) => button.addEventListener("click", () => {
    const incident = incidents.find((i) => i.id === button.dataset.incident);
    if (incident) edit(incident);
  }));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = form.elements.id.value;
    const save = $("#inc-save");
    save.disabled = true;
    try {
      if (id) await call("PATCH", "/" + encodeURIComponent(id), body(true));
      else await call("POST", "", body(false));
      tell(w("inc_saved"), "saved");
      location.reload();
    } catch (err) {
      save.disabled = false;
    }
  });

  // ---- a suggested spike: open an incident from it (the form filled in), or dismiss it ---------------
  $$(".inc-spike-open").forEach((button) => button.addEventListener("click", () => {
    const spike = spikes.find((x) => x.hotspot_id === button.dataset.hotspot);
    if (!spike) return;
    stopEditing();
    for (const [l, text] of Object.entries(spike.title)) form.elements[`title.${l}`].value = text;
    $$('input[name="channels"]', form).forEach((box) => { box.checked = spike.channels.includes(box.value); });
    fromHotspot(spike.hotspot_id);
    const link = $("#inc-hotspot-link");
    link.href = spike.link;
    link.textContent = spike.label;
    form.elements.note.value = spike.note;
    $("#inc-cancel").hidden = false;
    tell("");
    form.scrollIntoView({ behavior: "smooth", block: "start" });
  }));
  $$(".inc-spike-dismiss").forEach((button) => button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await call("POST", "/suggestions/" + encodeURIComponent(button.dataset.hotspot) + "/dismiss", {});
      button.closest(".inc-spike").remove();
      if (!$$(".inc-spike").length) $("#inc-spikes").hidden = true;
      tell(w("inc_spike_dismissed"), "saved");
    } catch (err) {
      button.disabled = false;
    }
  }));

  // ---- resolving: a second click confirms ----------------------------------------------------------
  $$(".inc-resolve").forEach((button) => button.addEventListener("click", async () => {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = w("inc_confirm_resolve");
      return;
    }
    button.disabled = true;
    try {
      await call("POST", "/" + encodeURIComponent(button.dataset.incident) + "/resolve",
        { version: Number(button.dataset.version) });
      tell(w("inc_resolved_now"), "saved");
      location.reload();
    } catch (err) {
      button.disabled = false;
    }
  }));

  // ---- campaigns: notify the affected customers ------------------------------------------------------
  const campMessage = $("#camp-message");
  $$(".camp__form").forEach((campForm) => campForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = $(".camp-start", campForm);
    const text = campForm.elements.message.value.trim();
    const body = { channel: campForm.elements.channel.value };
    if (text) body.message = { [campForm.dataset.language]: text };
    button.disabled = true;
    try {
      await call("POST", "/" + encodeURIComponent(campForm.dataset.incident) + "/campaign", body, campMessage);
      tell(w("camp_started"), "saved");
      location.reload();
    } catch (err) {
      button.disabled = false;
    }
  }));
  $$(".camp-cancel").forEach((button) => button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await call("POST", "/" + encodeURIComponent(button.dataset.incident) + "/campaign/cancel", {}, campMessage);
      tell(w("camp_stopped_now"), "saved");
      location.reload();
    } catch (err) {
      button.disabled = false;
    }
  }));
  // A running campaign's counts, every few seconds until it ends.
  async function refresh(card) {
    const r = await fetch("/console/api/incidents/" + encodeURIComponent(card.dataset.incident) + "/campaign",
      { credentials: "same-origin" });
    if (!r.ok) return;
    const campaign = await r.json();
    for (const [key, value] of Object.entries(campaign.counts)) {
      const cell = $(`[data-count="${key}"]`, card);
      if (cell) cell.textContent = String(value);
    }
    card.dataset.status = campaign.status;
    $(".camp__status", card).textContent = w("camp_status_" + campaign.status);
    if (campaign.status !== "running") $$(".camp-cancel", card).forEach((b) => { b.hidden = true; });
  }
  const running = $$('.camp[data-status="running"]');
  if (running.length) {
    const timer = setInterval(async () => {
      for (const card of running) await refresh(card).catch(() => {});
      if (running.every((card) => card.dataset.status !== "running")) clearInterval(timer);
    }, 2000);
  }

  document.body.dataset.incReady = "true";
})();
