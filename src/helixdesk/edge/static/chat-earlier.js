// The customer's earlier conversations on every channel (WeChat, web, app, phone, social messages),
// above the current one: one history. Fetched over HTTP (GET …/earlier, with the conversation's
// token) whether the current conversation comes over the WebSocket or not; a visitor has none, and
// the section stays hidden. The heading is a button that folds the section away (remembered for the
// visit); "show earlier conversations" fetches the next, older page above the ones shown.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const section = $("earlier"), toggle = $("earlier-toggle"), body = $("earlier-body");
  const list = $("earlier-list"), more = $("earlier-more"), problem = $("earlier-error"), scroller = $("scroll");
  const chat = window.hdChat;
  if (!section || !chat) return;
  const channels = JSON.parse(section.dataset.channels || "{}");
  const PAGE = 5;
  let current = null, cursor = null, loading = false;
  const shown = new Map();  // conversation id -> the conversation as the server gave it

  function channelLabel(code) {
    const words = channels[code];
    return (words && (words[chat.lang()] || words.en)) || code;
  }
  function dateLabel(iso) {
    try {
      return new Intl.DateTimeFormat(chat.lang(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
    } catch (e) {
      return iso.slice(0, 16).replace("T", " ");
    }
  }

  // Shown as the current conversation's messages are (chat.js): who, an image or voice tag, the text.
  function messageItem(message) {
    const li = document.createElement("li");
    li.className = "msg msg--" + message.sender + (message.sender === "bot" && message.kind === "touch" ? " msg--touch" : "");
    const bubble = document.createElement("div");
    bubble.className = "msg__bubble";
    const who = document.createElement("span");
    who.className = "msg__who";
    bubble.appendChild(who);
    if (message.kind === "image" || message.kind === "voice") {
      const tag = document.createElement("span");
      tag.className = "msg__tag msg__tag--image";
      tag.dataset.i18n = message.kind + "_tag";
      tag.textContent = chat.t(message.kind + "_tag");
      bubble.appendChild(tag);
    }
    const text = document.createElement("span");
    text.className = "msg__text";
    text.textContent = message.text;
    bubble.appendChild(text);
    li.appendChild(bubble);
    return li;
  }

  function conversationItem(conversation) {
    const li = document.createElement("li");
    li.className = "earlier__conversation";
    li.dataset.id = conversation.id;
    li.dataset.channel = conversation.channel;
    const title = document.createElement("h3");
    title.className = "earlier__title";
    title.tabIndex = -1;  // focus lands on the first of a page fetched with "show earlier conversations"
    const channel = document.createElement("span");
    channel.className = "earlier__channel";
    const when = document.createElement("time");
    when.className = "earlier__date";
    when.dateTime = conversation.started_at;
    title.append(channel, " · ", when);
    const messages = document.createElement("ol");
    messages.className = "earlier__messages";
    conversation.messages.forEach((m) => messages.appendChild(messageItem(m)));
    li.append(title, messages);
    label(li, conversation);
    return li;
  }

  // Words that follow the page's language: the channel, the date, who wrote each message.
  function label(li, conversation) {
    li.querySelector(".earlier__channel").textContent = channelLabel(conversation.channel);
    li.querySelector(".earlier__date").textContent = dateLabel(conversation.started_at);
    li.querySelectorAll(".earlier__messages > .msg").forEach((item, i) => {
      item.querySelector(".msg__who").textContent = chat.who(conversation.messages[i]);
    });
  }

  function reset() {
    shown.clear(); cursor = null; list.replaceChildren();
    more.hidden = true; problem.hidden = true; section.hidden = true;
  }

  async function load(first) {
    if (!current || loading) return;
    loading = true; more.disabled = true;
    const asked = current.id;
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (!first && cursor) query.set("before", cursor);
    try {
      const r = await fetch(`/api/v1/conversations/${asked}/earlier?${query}`,
                            { headers: { Authorization: "Bearer " + current.token } });
      if (!current || current.id !== asked) return;  // a new conversation started meanwhile
      if (!r.ok) throw new Error(String(r.status));
      const page = await r.json();
      problem.hidden = true;
      add(page.conversations, first);
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (e) {
      if (!current || current.id !== asked) return;
      if (shown.size) { problem.textContent = chat.t("earlier_failed"); problem.hidden = false; }
    } finally {
      loading = false; more.disabled = false;
    }
  }

  // A page comes newest first; it goes above what is shown, oldest at the top, the scroll position
  // kept where the customer was (at the current conversation when the page opens).
  function add(conversations, first) {
    const fresh = conversations.filter((c) => !shown.has(c.id));
    if (!fresh.length) return;
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 4;
    const before = scroller.scrollHeight;
    const items = fresh.slice().reverse().map((c) => { shown.set(c.id, c); return conversationItem(c); });
    list.prepend(...items);
    section.hidden = false;
    if (first || atBottom) scroller.scrollTop = scroller.scrollHeight;
    else scroller.scrollTop += scroller.scrollHeight - before;
    if (!first) items[0].querySelector(".earlier__title").focus();  // the oldest now shown: read on down
  }

  function setOpen(open) {
    toggle.setAttribute("aria-expanded", String(open));
    body.hidden = !open;
    sessionStorage.setItem("hd.earlier", open ? "open" : "closed");
  }
  toggle.addEventListener("click", () => setOpen(toggle.getAttribute("aria-expanded") !== "true"));
  more.addEventListener("click", () => load(false));

  function open(detail) {
    if (!detail || !detail.id || (current && current.id === detail.id)) return;
    current = { id: detail.id, token: detail.token };
    reset();
    load(true);
  }
  document.addEventListener("hd:conversation", (event) => open(event.detail));
  document.addEventListener("hd:language", () => {
    list.querySelectorAll(".earlier__conversation").forEach((li) => label(li, shown.get(li.dataset.id)));
  });
  setOpen(sessionStorage.getItem("hd.earlier") !== "closed");
  open(chat.conversation);
})();
