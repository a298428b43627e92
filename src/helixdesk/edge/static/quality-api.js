// Calls of the QA review and staff quality pages to /console/api/quality: JSON in and out with the
// session's CSRF token; a refusal is shown in the console's flash line, in the person's language
// when the page words its code (`errors`: code -> words).
window.helixdeskQuality = (function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const flash = document.getElementById("flash");

  function say(message) { flash.textContent = message || ""; flash.hidden = !message; }

  async function post(path, body, errors) {
    const r = await fetch("/console/api/quality" + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = (r.headers.get("content-type") || "").includes("json") ? await r.json() : {};
    if (r.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); throw new Error("sign in"); }
    if (!r.ok) {
      const m = data.error ? (errors || {})[data.error.code] || data.error.message : r.statusText;
      say(m); throw new Error(m);
    }
    say("");
    return data;
  }

  return { post, say };
})();
