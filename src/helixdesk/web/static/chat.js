// Customer chat widget: one conversation over the WebSocket API, resumed by sequence number.
(function () {
  "use strict";
  const I18N = {
    "zh-Hans": { title: "在线客服", connecting: "正在连接…", online: "智能客服在线", offline: "连接中断，正在重连…",
                 placeholder: "请输入您的问题", send: "发送", customer: "我", bot: "智能客服", agent: "客服专员",
                 system: "系统", welcome: "您好！我是智能客服，请问有什么可以帮您？" },
    "zh-Hant": { title: "線上客服", connecting: "正在連線…", online: "智能客服在線", offline: "連線中斷，正在重連…",
                 placeholder: "請輸入您的問題", send: "發送", customer: "我", bot: "智能客服", agent: "客服專員",
                 system: "系統", welcome: "您好！我是智能客服，請問有什麼可以幫您？" },
    "en": { title: "Online service", connecting: "Connecting…", online: "Assistant online",
            offline: "Connection lost, reconnecting…", placeholder: "Type your question", send: "Send",
            customer: "You", bot: "Assistant", agent: "Agent", system: "System",
            welcome: "Hello! I'm the virtual assistant. How can I help you?" },
  };
  const $ = (id) => document.getElementById(id);
  const log = $("log"), form = $("form"), text = $("text"), status = $("status"), errorBox = $("error");
  const langSelect = $("lang");
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || sessionStorage.getItem("hd.lang") || (navigator.language.startsWith("en") ? "en" : "zh-Hans");
  if (!I18N[lang]) lang = "zh-Hans";
  langSelect.value = lang;
  let conversationId = sessionStorage.getItem("hd.conversation");
  let lastSeq = 0;
  const seen = new Map();
  let socket = null, retry = 0;

  function t(key) { return I18N[lang][key]; }
  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    status.textContent = socket && socket.readyState === 1 ? t("online") : t("connecting");
  }
  function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }

  function render(message) {
    if (seen.has(message.seq)) return;
    seen.set(message.seq, message);
    lastSeq = Math.max(lastSeq, message.seq);
    const li = document.createElement("li");
    li.className = "msg msg--" + message.sender;
    li.dataset.seq = message.seq;
    const bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    const who = document.createElement("span");
    who.className = "msg__who";
    who.textContent = t(message.sender) || message.sender;
    bubble.appendChild(who);
    bubble.appendChild(document.createTextNode(message.text));
    li.appendChild(bubble);
    // Keep the thread in sequence order even when frames arrive out of order.
    const after = Array.from(log.children).find((el) => Number(el.dataset.seq) > message.seq);
    log.insertBefore(li, after || null);
    log.scrollTop = log.scrollHeight;
  }

  async function ensureConversation() {
    if (conversationId) {
      const r = await fetch("/api/v1/conversations/" + conversationId);
      if (r.ok) return conversationId;
    }
    const body = { channel: "web", language: lang };
    const customer = params.get("customer");
    if (customer) body.customer_ref = customer;
    const r = await fetch("/api/v1/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ? data.error.message : "could not start a conversation");
    conversationId = data.id;
    sessionStorage.setItem("hd.conversation", conversationId);
    return conversationId;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/conversations/${conversationId}/ws?after_seq=${lastSeq}`);
    socket.onopen = () => { retry = 0; status.textContent = t("online"); status.dataset.state = "online"; };
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") render(frame.message);
      else if (frame.type === "error") showError(frame.error.message);
    };
    socket.onclose = (event) => {
      status.textContent = t("offline"); status.dataset.state = "offline";
      if (event.code === 4404) { sessionStorage.removeItem("hd.conversation"); conversationId = null; start(); return; }
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    };
  }

  async function start() {
    try {
      await ensureConversation();
      connect();
    } catch (e) {
      showError(String(e.message || e));
      setTimeout(start, 3000);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value || !socket || socket.readyState !== 1) return;
    showError("");
    const id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 64);
    socket.send(JSON.stringify({ type: "message", text: value, client_message_id: id }));
    text.value = "";
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  langSelect.addEventListener("change", () => {
    lang = langSelect.value; sessionStorage.setItem("hd.lang", lang); applyLanguage();
  });

  applyLanguage();
  const welcome = document.createElement("li");
  welcome.className = "msg msg--bot"; welcome.dataset.seq = "0";
  welcome.innerHTML = '<div class="msg__bubble"></div>';
  welcome.firstChild.textContent = t("welcome");
  log.appendChild(welcome);
  start();
})();
