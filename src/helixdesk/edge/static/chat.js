// Customer chat widget: one conversation over the WebSocket API, resumed by sequence number.
(function () {
  "use strict";
  const I18N = {
    "zh-Hans": { title: "在线客服", connecting: "正在连接…", online: "智能客服在线", offline: "连接中断，正在重连…",
                 placeholder: "请输入您的问题", send: "发送", customer: "我", bot: "智能客服", agent: "客服专员",
                 system: "系统", welcome: "您好！我是智能客服，请问有什么可以帮您？", person: "转人工",
                 waiting: "正在为您转接人工客服，请稍候…", with_agent: "人工客服为您服务中", closed: "本次对话已结束",
                 restart: "开始新的对话", waiting_for_agent: "正在为您转接人工客服…", source: "来源：", faq: "常见问题",
                 rate_link: "评价本次服务", rating_title: "您对本次服务满意吗？", score_1: "非常不满意",
                 score_2: "不满意", score_3: "一般", score_4: "满意", score_5: "非常满意",
                 rating_comment: "还有什么想告诉我们的吗？（选填）", rating_send: "提交评价", rating_later: "暂不评价",
                 rating_thanks: "感谢您的评价！我们会认真改进。", rating_pick: "请先选择一个评分。",
                 already_rated: "您已评价过本次服务，谢谢！", suggestion: "为您推荐",
                 attach: "发送图片", image_tag: "图片", voice_tag: "语音", image_reading: "正在识别图片…",
                 image_invalid: "请发送 PNG、JPEG 或 WebP 格式的图片。", image_too_large: "图片太大了，请发送小一些的图片。",
                 image_dimensions_invalid: "图片尺寸不合适，请发送清晰的截图。", image_failed: "图片发送失败，请稍后再试。",
                 earlier: "以往对话", earlier_more: "显示更早的对话", earlier_now: "本次对话",
                 earlier_failed: "以往对话暂时无法显示。" },
    "zh-Hant": { title: "線上客服", connecting: "正在連線…", online: "智能客服在線", offline: "連線中斷，正在重連…",
                 placeholder: "請輸入您的問題", send: "發送", customer: "我", bot: "智能客服", agent: "客服專員",
                 system: "系統", welcome: "您好！我是智能客服，請問有什麼可以幫您？", person: "轉真人",
                 waiting: "正在為您轉接真人客服，請稍候…", with_agent: "真人客服為您服務中", closed: "本次對話已結束",
                 restart: "開始新的對話", waiting_for_agent: "正在為您轉接真人客服…", source: "來源：", faq: "常見問題",
                 rate_link: "評價本次服務", rating_title: "您對本次服務滿意嗎？", score_1: "非常不滿意",
                 score_2: "不滿意", score_3: "一般", score_4: "滿意", score_5: "非常滿意",
                 rating_comment: "還有甚麼想告訴我們嗎？（選填）", rating_send: "提交評價", rating_later: "暫不評價",
                 rating_thanks: "感謝您的評價！我們會用心改進。", rating_pick: "請先選擇一個評分。",
                 already_rated: "您已評價過本次服務，謝謝！", suggestion: "為您推薦",
                 attach: "發送圖片", image_tag: "圖片", voice_tag: "語音", image_reading: "正在識別圖片…",
                 image_invalid: "請發送 PNG、JPEG 或 WebP 格式的圖片。", image_too_large: "圖片太大了，請發送小一些的圖片。",
                 image_dimensions_invalid: "圖片尺寸不合適，請發送清晰的截圖。", image_failed: "圖片發送失敗，請稍後再試。",
                 earlier: "以往對話", earlier_more: "顯示更早的對話", earlier_now: "本次對話",
                 earlier_failed: "以往對話暫時無法顯示。" },
    "en": { title: "Online service", connecting: "Connecting…", online: "Assistant online",
            offline: "Connection lost, reconnecting…", placeholder: "Type your question", send: "Send",
            customer: "You", bot: "Assistant", agent: "Agent", system: "System",
            welcome: "Hello! I'm the virtual assistant. How can I help you?", person: "Talk to a person",
            waiting: "Connecting you with a member of staff…", with_agent: "A member of staff is with you",
            closed: "This conversation has ended", restart: "Start a new conversation",
            waiting_for_agent: "Connecting you to a member of staff…", source: "Source: ", faq: "FAQ",
            rate_link: "Rate this chat", rating_title: "How satisfied are you with this chat?",
            score_1: "Very poor", score_2: "Poor", score_3: "Fair", score_4: "Good", score_5: "Excellent",
            rating_comment: "Anything else you'd like to tell us? (optional)", rating_send: "Send rating",
            rating_later: "Not now", rating_thanks: "Thank you for your feedback! It helps us do better.",
            rating_pick: "Please choose a score first.", already_rated: "You have already rated this chat. Thank you!",
            suggestion: "A suggestion for you", attach: "Send an image", image_tag: "Image", voice_tag: "Voice",
            image_reading: "Reading the image…", image_invalid: "Please send a PNG, JPEG or WebP image.",
            image_too_large: "That image is too large; please send a smaller one.",
            image_dimensions_invalid: "That image's size can't be read; please send a clear screenshot.",
            image_failed: "The image could not be sent; please try again.",
            earlier: "Earlier conversations", earlier_more: "Show earlier conversations",
            earlier_now: "This conversation", earlier_failed: "Earlier conversations cannot be shown just now." },
  };
  const $ = (id) => document.getElementById(id);
  const log = $("log"), scroller = $("scroll"), form = $("form"), text = $("text"), status = $("status"), errorBox = $("error");
  const langSelect = $("lang"), personButton = $("person"), banner = $("banner"), restart = $("restart");
  const attach = $("attach"), imageInput = $("image");
  const rating = $("rating"), ratingForm = $("rating-form"), ratingDone = $("rating-done"), rateLink = $("rate");
  const params = new URLSearchParams(location.search);
  // The page opens in: ?lang=, else the language the customer chose here before, else their
  // preferred language when the server knows who they are, else the browser's (then English).
  function browserLanguage() {
    for (const tag of navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ""]) {
      const t = tag.toLowerCase().replace("_", "-");
      if (t === "zh" || t.startsWith("zh-")) return /^zh-(hant|tw|hk|mo)/.test(t) ? "zh-Hant" : "zh-Hans";
      if (t === "en" || t.startsWith("en-")) return "en";
    }
    return "en";
  }
  let lang = [params.get("lang"), sessionStorage.getItem("hd.lang"), document.documentElement.dataset.customerLang]
    .find((l) => l && I18N[l]) || browserLanguage();
  langSelect.value = lang;
  let conversationId = sessionStorage.getItem("hd.conversation");
  let token = sessionStorage.getItem("hd.token");
  let state = "bot";
  let lastSeq = 0;
  const seen = new Map();
  const synced = new Set();
  let socket = null, retry = 0;
  const pending = [];  // messages typed while the connection was down, as frames to send
  // The rating (CSAT): whether it may be given now, whether the customer put the offer aside, and
  // what the thank-you note says once it is given.
  let canRate = false, ratingPutAside = false, ratingNote = null;
  const ratingAsked = new Set();

  function t(key) { return I18N[lang][key]; }
  // What the page's other scripts (chat-earlier.js: the customer's earlier conversations) share:
  // the words in the page's language, and events when the conversation or the language changes.
  window.hdChat = { t: (key) => t(key), who: (message) => whoLabel(message), lang: () => lang };
  function announce(name, detail) {
    window.hdChat[name] = detail;  // for a script that starts listening later
    document.dispatchEvent(new CustomEvent("hd:" + name, { detail }));
  }
  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("title") + " · Helixdesk";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((el) => { el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel)); });
    document.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    showState(state);
    if (ratingNote) ratingDone.textContent = t(ratingNote);
    const welcome = log.querySelector(".msg--welcome");
    if (welcome) {
      welcome.querySelector(".msg__who").textContent = t("bot");
      welcome.querySelector(".msg__text").textContent = t("welcome");
    }
    document.querySelectorAll(".msg").forEach((li) => {
      const message = seen.get(Number(li.dataset.seq));
      const who = li.querySelector(".msg__who");
      if (message && who) who.textContent = whoLabel(message);
      const source = li.querySelector(".msg__source");
      if (message && source) source.textContent = sourceLabel(message.citations);
    });
  }
  function showStatus() {
    if (!socket || socket.readyState !== 1) { status.textContent = t("connecting"); return; }
    status.textContent = state === "bot" ? t("online") : t(state) || t("online");
  }
  function whoLabel(message) {
    return message.sender === "agent" && message.author ? message.author : (t(message.sender) || message.sender);
  }
  function authHeaders() { return token ? { Authorization: "Bearer " + token } : {}; }
  // The conversation changed hands: waiting for a person, with a person, back with the bot, closed.
  function showState(next) {
    state = next || "bot";
    document.body.dataset.state = state;
    showStatus();
    const note = { waiting_for_agent: t("waiting"), with_agent: t("with_agent"), closed: t("closed") }[state];
    banner.textContent = note || ""; banner.hidden = !note;
    personButton.hidden = state !== "bot";
    restart.hidden = state !== "closed";
    text.disabled = state === "closed";
    attach.disabled = state === "closed";
    if (state === "closed") checkRating();
  }
  function showError(message) { errorBox.textContent = message; errorBox.hidden = !message; }

  function render(message) {
    if (seen.has(message.seq)) return;
    seen.set(message.seq, message);
    lastSeq = Math.max(lastSeq, message.seq);
    const li = document.createElement("li");
    // The bot's lifecycle touch (a suggestion after the answer) is shown as such, not as the answer.
    const touch = message.sender === "bot" && message.kind === "touch";
    li.className = "msg msg--" + message.sender + (touch ? " msg--touch" : "");
    li.dataset.seq = message.seq;
    const bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    const who = document.createElement("span");
    who.className = "msg__who";
    who.textContent = whoLabel(message);
    bubble.appendChild(who);
    if (message.kind === "image" || message.kind === "voice") {
      // An image, or a voice message (sent from the app or WeChat; its text is what was heard).
      const tag = document.createElement("span");
      tag.className = "msg__tag msg__tag--image";
      tag.dataset.i18n = message.kind + "_tag";
      tag.textContent = t(message.kind + "_tag");
      bubble.appendChild(tag);
    }
    if (touch) {
      const tag = document.createElement("span");
      tag.className = "msg__tag";
      tag.dataset.i18n = "suggestion";
      tag.textContent = t("suggestion");
      bubble.appendChild(tag);
    }
    const body = document.createElement("span");
    body.className = "msg__text";
    body.textContent = message.text;
    bubble.appendChild(body);
    if (message.citations && message.citations.length) {
      const source = document.createElement("span");
      source.className = "msg__source";
      source.textContent = sourceLabel(message.citations);
      bubble.appendChild(source);
    }
    li.appendChild(bubble);
    // Keep the thread in sequence order even when frames arrive out of order.
    const after = Array.from(log.children).find((el) => Number(el.dataset.seq) > message.seq);
    log.insertBefore(li, after || null);
    scroller.scrollTop = scroller.scrollHeight;
    if (message.in_reply_to) {
      syncCustomerMessage(message.in_reply_to);
      if (!ratingAsked.has(message.in_reply_to)) { ratingAsked.add(message.in_reply_to); checkRating(); }
    }
  }

  // Where a knowledge answer comes from, e.g. "来源：常见问题 · card-declined-abroad".
  function sourceLabel(citations) {
    return t("source") + citations.map((c) => {
      const title = c.source.startsWith("pack:") ? t("faq") : c.title;
      return c.ref && c.ref !== title ? title + " · " + c.ref : title;
    }).join("; ");
  }

  // Once the bot has answered, show the customer's message as the bank stored it: a one-time code,
  // for example, is never kept and must not stay on screen either.
  async function syncCustomerMessage(id) {
    const mine = Array.from(seen.values()).find((m) => m.id === id && m.sender === "customer");
    if (!mine || synced.has(id)) return;
    synced.add(id);
    const r = await fetch(`/api/v1/conversations/${conversationId}/messages?after_seq=${mine.seq - 1}&limit=1`,
                          { headers: authHeaders() });
    if (!r.ok) return;
    const stored = (await r.json()).messages[0];
    if (!stored || stored.id !== id || stored.text === mine.text) return;
    seen.set(mine.seq, stored);
    const body = log.querySelector(`.msg[data-seq="${mine.seq}"] .msg__text`);
    if (body) body.textContent = stored.text;
  }

  // ---- the rating (CSAT) ----------------------------------------------------------------------
  // Offered when the conversation closes or the customer tells the bot they are done (the server
  // says when: GET …/rating); the "rate this chat" link offers it at any time once they have written.
  async function checkRating() {
    if (!conversationId || ratingNote) return;
    const r = await fetch(`/api/v1/conversations/${conversationId}/rating`, { headers: authHeaders() });
    if (!r.ok) return;
    const data = await r.json();
    if (data.rating) { ratingGiven("rating_thanks"); return; }
    canRate = data.can_rate;
    rateLink.hidden = !canRate || !rating.hidden;
    if (data.offer && !ratingPutAside && rating.hidden) showRating(state === "closed");
  }
  function showRating(focus) {
    rating.hidden = false; ratingForm.hidden = false; ratingDone.hidden = true; rateLink.hidden = true;
    scroller.scrollTop = scroller.scrollHeight;
    if (focus) (ratingForm.querySelector("input[name=score]:checked") || ratingForm.querySelector("input[name=score]")).focus();
  }
  function hideRating() {
    rating.hidden = true; rateLink.hidden = !canRate || Boolean(ratingNote);
  }
  function ratingGiven(note) {
    ratingNote = note; canRate = false;
    rating.hidden = false; ratingForm.hidden = true; rateLink.hidden = true;
    ratingDone.textContent = t(note); ratingDone.hidden = false;
  }
  function resetRating() {
    canRate = false; ratingPutAside = false; ratingNote = null; ratingAsked.clear();
    ratingForm.reset(); ratingForm.hidden = false; ratingDone.hidden = true; ratingDone.textContent = "";
    rating.hidden = true; rateLink.hidden = true;
  }
  ratingForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const picked = ratingForm.querySelector("input[name=score]:checked");
    if (!picked) { showError(t("rating_pick")); ratingForm.querySelector("input[name=score]").focus(); return; }
    showError("");
    const send = $("rating-send");
    send.disabled = true;
    try {
      const r = await fetch(`/api/v1/conversations/${conversationId}/rating`, {
        method: "POST", headers: { "Content-Type": "application/json", ...authHeaders() },
        body: JSON.stringify({ score: Number(picked.value), comment: $("rating-comment").value }),
      });
      const data = await r.json();
      if (r.ok) ratingGiven("rating_thanks");
      else if (data.error && data.error.code === "already_rated") ratingGiven("already_rated");
      else showError(data.error ? data.error.message : "error");
    } finally {
      send.disabled = false;
    }
  });
  $("rating-later").addEventListener("click", () => { ratingPutAside = true; showError(""); hideRating(); });
  rateLink.addEventListener("click", () => showRating(true));

  async function ensureConversation() {
    if (conversationId && token) {
      const r = await fetch("/api/v1/conversations/" + conversationId, { headers: authHeaders() });
      if (r.ok) {
        showState((await r.json()).state);
        if (state !== "closed") checkRating();  // showState asked already for a closed one
        return conversationId;
      }
    }
    const body = { channel: "web", language: lang };
    const customer = params.get("customer");
    if (customer) body.customer_ref = customer;
    const r = await fetch("/api/v1/conversations", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ? data.error.message : "could not start a conversation");
    conversationId = data.id; token = data.token;
    sessionStorage.setItem("hd.conversation", conversationId);
    sessionStorage.setItem("hd.token", token);
    showState(data.state);
    return conversationId;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = `after_seq=${lastSeq}&token=${encodeURIComponent(token || "")}`;
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/conversations/${conversationId}/ws?${query}`);
    socket.onopen = () => {
      retry = 0; status.dataset.state = "online"; showStatus();
      // Messages typed while the connection was down go now, in order, each once (a page closed
      // before the connection is back loses them: they were never shown as sent).
      while (pending.length && socket.readyState === 1) socket.send(pending.shift());
    };
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "message") render(frame.message);
      else if (frame.type === "state") showState(frame.state);
      else if (frame.type === "error") showError(frame.error.message);
    };
    socket.onclose = (event) => {
      status.textContent = t("offline"); status.dataset.state = "offline";
      if ([4401, 4403, 4404].includes(event.code)) { forget(); start(); return; }
      // 4429: too many open connections; wait the longest before trying again.
      retry = event.code === 4429 ? 6 : Math.min(retry + 1, 6);
      setTimeout(connect, 250 * 2 ** retry);
    };
  }

  function forget() {
    sessionStorage.removeItem("hd.conversation"); sessionStorage.removeItem("hd.token");
    conversationId = null; token = null;
  }

  async function start() {
    try {
      await ensureConversation();
      announce("conversation", { id: conversationId, token });
      connect();
    } catch (e) {
      showError(String(e.message || e));
      setTimeout(start, 3000);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = text.value.trim();
    if (!value) return;
    showError("");
    const id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 64);
    const frame = JSON.stringify({ type: "message", text: value, client_message_id: id });
    if (socket && socket.readyState === 1) socket.send(frame);
    else pending.push(frame);  // reconnecting: sent as soon as the connection is back
    text.value = "";
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  // An image (a screenshot of a charge, a bill, an error screen) with the words typed so far: the
  // server reads it; the message and the replies arrive on the WebSocket like any other.
  attach.addEventListener("click", () => imageInput.click());
  imageInput.addEventListener("change", async () => {
    const file = imageInput.files && imageInput.files[0];
    imageInput.value = "";
    if (!file || !conversationId) return;
    showError("");
    const body = new FormData();
    body.append("image", file);
    const caption = text.value.trim();
    if (caption) body.append("caption", caption);
    body.append("client_message_id", (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 64));
    attach.disabled = true;
    status.textContent = t("image_reading");
    try {
      const r = await fetch(`/api/v1/conversations/${conversationId}/images`, { method: "POST", headers: authHeaders(), body });
      const data = await r.json().catch(() => ({}));
      if (!r.ok) {
        const code = data.error && data.error.code;
        showError(I18N[lang][code] || t("image_failed"));
        return;
      }
      text.value = "";
      (data.replies || []).forEach((reply) => render({ ...reply.message, kind: reply.kind, citations: reply.citations }));
      if (data.message) render(data.message);
    } catch (e) {
      showError(t("image_failed"));
    } finally {
      attach.disabled = false;
      showStatus();
    }
  });
  personButton.addEventListener("click", async () => {
    if (!conversationId) return;
    showError("");
    const r = await fetch(`/api/v1/conversations/${conversationId}/handoff`, { method: "POST", headers: authHeaders() });
    const data = await r.json();
    if (!r.ok) { showError(data.error ? data.error.message : "error"); return; }
    showState(data.state);
  });
  restart.addEventListener("click", () => {
    if (socket) { socket.onclose = null; socket.close(); }
    forget(); lastSeq = 0; seen.clear(); resetRating(); pending.length = 0;
    Array.from(log.children).forEach((el) => { if (el.dataset.seq !== "0") el.remove(); });
    showState("bot"); start();
  });
  langSelect.addEventListener("change", () => {
    lang = langSelect.value; sessionStorage.setItem("hd.lang", lang); applyLanguage(); announce("language", { lang });
  });

  applyLanguage();
  // The page's own greeting (seq 0, not part of the stored conversation), worded like a bot message.
  const welcome = document.createElement("li");
  welcome.className = "msg msg--bot msg--welcome"; welcome.dataset.seq = "0";
  welcome.innerHTML = '<div class="msg__bubble"><span class="msg__who"></span><span class="msg__text"></span></div>';
  welcome.querySelector(".msg__who").textContent = t("bot");
  welcome.querySelector(".msg__text").textContent = t("welcome");
  log.appendChild(welcome);
  start();
})();
