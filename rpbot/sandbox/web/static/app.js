// rpbot sandbox page: three chats with the real bot, live over server-sent events.
// Plain JavaScript, no build step, nothing loaded from the internet.
"use strict";

const ALLOWED_TAGS = new Set(["B", "I", "U", "S", "CODE", "PRE", "A", "BLOCKQUOTE", "TG-SPOILER"]);
const SAFE_LINK = /^(https?:|tg:|mailto:)/i;
const panes = new Map(); // persona key -> pane
let controlsBusy = false;

// --- talking to the sandbox -----------------------------------------------------------------

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(path, options);
  let answer;
  try {
    answer = await response.json();
  } catch (error) {
    throw new Error(`The sandbox answered ${response.status} without JSON.`);
  }
  if (!answer.ok) {
    const error = new Error(answer.error || `The sandbox answered ${response.status}.`);
    error.status = response.status;
    throw error;
  }
  return answer.result;
}

function setStatus(text) {
  document.getElementById("status").textContent = text || "";
}

function showClock(clock, bot) {
  if (clock) {
    const time = document.getElementById("clock");
    time.textContent = `${clock.text} (${clock.zone})`;
    time.setAttribute("datetime", clock.local);
  }
  if (bot) {
    const state = document.getElementById("bot-state");
    state.textContent = bot === "running" ? "bot running" : `bot ${bot}`;
    state.className = `bot-state ${bot}`;
  }
}

// --- safe HTML ------------------------------------------------------------------------------

// The server already builds messages from text and entities with Telegram's tags only; this
// second pass keeps the page safe even if that ever changed.
function sanitize(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  const clean = (node) => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === Node.TEXT_NODE) continue;
      if (child.nodeType !== Node.ELEMENT_NODE || !ALLOWED_TAGS.has(child.tagName)) {
        child.replaceWith(document.createTextNode(child.textContent || ""));
        continue;
      }
      const href = child.tagName === "A" ? child.getAttribute("href") : null;
      for (const attribute of Array.from(child.attributes)) child.removeAttribute(attribute.name);
      if (href && SAFE_LINK.test(href.trim())) {
        child.setAttribute("href", href.trim());
        child.setAttribute("rel", "noopener noreferrer");
        child.setAttribute("target", "_blank");
      }
      if (child.tagName === "TG-SPOILER") {
        child.setAttribute("tabindex", "0");
        child.setAttribute("role", "button");
        child.setAttribute("aria-label", "Hidden text: press to show");
      }
      clean(child);
    }
  };
  clean(template.content);
  return template.content;
}

document.addEventListener("click", (event) => {
  const spoiler = event.target.closest && event.target.closest("tg-spoiler");
  if (spoiler) spoiler.classList.toggle("revealed");
});
document.addEventListener("keydown", (event) => {
  if ((event.key === "Enter" || event.key === " ") && event.target.tagName === "TG-SPOILER") {
    event.preventDefault();
    event.target.classList.toggle("revealed");
  }
});

// --- one chat pane --------------------------------------------------------------------------

function buildPane(persona) {
  const fragment = document.getElementById("pane-template").content.cloneNode(true);
  const section = fragment.querySelector(".phone");
  const key = persona.key;
  section.dataset.persona = key;
  section.id = `pane-${key}`;
  const title = section.querySelector(".phone-title");
  title.id = `pane-${key}-title`;
  section.setAttribute("aria-labelledby", title.id);
  section.querySelector(".who").textContent = `${persona.label} ·`;
  section.querySelector(".name").textContent = persona.name;
  section.querySelector(".phone-sub").textContent =
    `Chat with the bot · Telegram id ${persona.user_id}`;
  const log = section.querySelector(".log");
  log.id = `log-${key}`;
  log.setAttribute("aria-label", `Messages between ${persona.name} (${persona.label}) and the bot`);
  const input = section.querySelector(".input");
  input.id = `input-${key}`;
  const label = section.querySelector("label");
  label.htmlFor = input.id;
  label.textContent = `Message to the bot as ${persona.name} (${persona.label})`;
  const menuButton = section.querySelector(".menu-button");
  const menu = section.querySelector(".menu");
  menu.id = `menu-${key}`;
  menuButton.setAttribute("aria-controls", menu.id);
  menuButton.setAttribute("aria-label", `Menu: ${persona.name}'s commands`);
  section.querySelector(".send").setAttribute("aria-label", `Send as ${persona.name}`);

  const pane = {
    persona, section, log, input, menu, menuButton,
    toast: section.querySelector(".toast"),
    elements: new Map(), // message id -> element
    toastTimer: null,
  };
  section.querySelector(".composer").addEventListener("submit", (event) => {
    event.preventDefault();
    sendText(pane, input.value);
  });
  menuButton.addEventListener("click", () => toggleMenu(pane));
  menu.addEventListener("keydown", (event) => menuKeys(pane, event));
  renderCommands(pane, persona.commands || []);
  return pane;
}

function messageElement(pane, message) {
  const row = document.createElement("div");
  row.className = `msg ${message.from === "bot" ? "bot" : "user"}`;
  row.dataset.messageId = String(message.id);
  row.id = `${pane.persona.key}-msg-${message.id}`;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  const speaker = document.createElement("span");
  speaker.className = "visually-hidden";
  speaker.textContent = message.from === "bot" ? "Bot: " : `${pane.persona.name}: `;
  bubble.append(speaker);
  if (message.photo) {
    const image = document.createElement("img");
    image.src = message.photo.url;
    image.alt = "Picture from the bot";
    if (message.photo.width) image.width = message.photo.width;
    if (message.photo.height) image.height = message.photo.height;
    image.loading = "lazy";
    bubble.append(image);
  }
  if (message.document) {
    const link = document.createElement("a");
    link.className = "document";
    link.href = message.document.url;
    link.setAttribute("download", message.document.name);
    link.textContent = `📄 Download ${message.document.name}`;
    bubble.append(link);
  }
  if (message.html) {
    const text = document.createElement("div");
    text.className = "text";
    text.append(sanitize(message.html));
    bubble.append(text);
  }
  if (message.buttons && message.buttons.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    keyboard.setAttribute("role", "group");
    keyboard.setAttribute("aria-label", "Answer buttons");
    for (const buttons of message.buttons) {
      const line = document.createElement("div");
      line.className = "row";
      for (const spec of buttons) {
        if (spec.url) {
          const link = document.createElement("a");
          link.href = spec.url;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          link.textContent = spec.text;
          line.append(link);
          continue;
        }
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = spec.text;
        if (spec.data === null || spec.data === undefined) {
          button.disabled = true;
        } else {
          button.addEventListener("click", () => pressButton(pane, message.id, spec.data, button));
        }
        line.append(button);
      }
      keyboard.append(line);
    }
    bubble.append(keyboard);
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  const time = document.createElement("time");
  time.dateTime = message.date;
  time.textContent = message.time;
  meta.append(time);
  if (message.edited) meta.append(" · edited");
  bubble.append(meta);
  row.append(bubble);
  return row;
}

function upsertMessage(pane, message) {
  const nearBottom = pane.log.scrollHeight - pane.log.scrollTop - pane.log.clientHeight < 80;
  const element = messageElement(pane, message);
  const old = pane.elements.get(message.id);
  if (old) {
    if (old.contains(document.activeElement) && !message.buttons.length) pane.input.focus();
    old.replaceWith(element);
  } else {
    let after = null; // keep the log in message-id order whatever order events come in
    for (const [id, existing] of pane.elements) {
      if (id > message.id && (!after || id < Number(after.dataset.messageId))) after = existing;
    }
    pane.log.insertBefore(element, after);
  }
  pane.elements.set(message.id, element);
  if (!old || nearBottom) pane.log.scrollTop = pane.log.scrollHeight;
}

function removeMessage(pane, id) {
  const element = pane.elements.get(id);
  if (element) element.remove();
  pane.elements.delete(id);
}

async function refreshPane(pane) {
  const result = await api("GET", `/api/chats/${pane.persona.key}/messages`);
  const present = new Set(result.messages.map((message) => message.id));
  for (const id of Array.from(pane.elements.keys())) if (!present.has(id)) removeMessage(pane, id);
  for (const message of result.messages) upsertMessage(pane, message);
  renderCommands(pane, result.commands);
}

function showToast(pane, text) {
  pane.toast.textContent = text;
  clearTimeout(pane.toastTimer);
  pane.toastTimer = setTimeout(() => { pane.toast.textContent = ""; }, 6000);
}

async function sendText(pane, raw) {
  const text = raw.trim();
  if (!text) return;
  pane.input.value = "";
  try {
    await api("POST", `/api/chats/${pane.persona.key}/send`, { text });
  } catch (error) {
    pane.input.value = text;
    showToast(pane, error.message);
  }
}

async function pressButton(pane, messageId, data, button) {
  button.setAttribute("aria-busy", "true");
  try {
    await api("POST", `/api/chats/${pane.persona.key}/press`, { message_id: messageId, data });
  } catch (error) {
    showToast(pane, error.message);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

// --- the command menu (what the bot set with setMyCommands for this chat) -------------------

function renderCommands(pane, commands) {
  const list = pane.menu.querySelector(".menu-list");
  list.replaceChildren();
  for (const command of commands) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const name = document.createElement("span");
    name.className = "command";
    name.textContent = `/${command.command}`;
    const description = document.createElement("span");
    description.className = "description";
    description.textContent = command.description;
    button.append(name, " ", description);
    button.addEventListener("click", () => {
      closeMenu(pane);
      sendText(pane, `/${command.command}`);
    });
    item.append(button);
    list.append(item);
  }
  pane.menu.querySelector(".menu-empty").hidden = commands.length > 0;
}

function toggleMenu(pane) {
  if (pane.menu.hidden) openMenu(pane); else closeMenu(pane, true);
}

function openMenu(pane) {
  for (const other of panes.values()) if (other !== pane) closeMenu(other);
  pane.menu.hidden = false;
  pane.menuButton.setAttribute("aria-expanded", "true");
  const first = pane.menu.querySelector("button");
  if (first) first.focus();
}

function closeMenu(pane, returnFocus) {
  if (pane.menu.hidden) return;
  pane.menu.hidden = true;
  pane.menuButton.setAttribute("aria-expanded", "false");
  if (returnFocus) pane.menuButton.focus();
}

function menuKeys(pane, event) {
  const items = Array.from(pane.menu.querySelectorAll("button"));
  const index = items.indexOf(document.activeElement);
  if (event.key === "Escape") {
    event.preventDefault();
    closeMenu(pane, true);
  } else if (event.key === "ArrowDown" && items.length) {
    event.preventDefault();
    items[(index + 1) % items.length].focus();
  } else if (event.key === "ArrowUp" && items.length) {
    event.preventDefault();
    items[(index - 1 + items.length) % items.length].focus();
  }
}

document.addEventListener("click", (event) => {
  for (const pane of panes.values()) {
    if (!pane.menu.hidden && !pane.menu.parentElement.contains(event.target)) closeMenu(pane);
  }
});

// --- the control bar ------------------------------------------------------------------------

function setControlsBusy(busy) {
  controlsBusy = busy;
  for (const button of document.querySelectorAll(".controls button")) {
    button.disabled = busy;
    button.setAttribute("aria-disabled", busy ? "true" : "false");
  }
}

async function control(path, working) {
  if (controlsBusy) return;
  setControlsBusy(true);
  setStatus(working);
  try {
    const result = await api("POST", path, {});
    if (result.clock) showClock(result.clock);
    // Show what was delivered before the buttons come back, whatever the event stream does.
    const delivered = Object.keys(result.delivered || {});
    await Promise.all(delivered.filter((key) => panes.has(key)).map((key) => refreshPane(panes.get(key))));
    if (path === "/api/reset") await loadAll();
    setStatus(result.message || "Done.");
  } catch (error) {
    setStatus(error.message);
  } finally {
    setControlsBusy(false);
  }
}

function wireControls() {
  document.getElementById("next-reminder").addEventListener("click", () =>
    control("/api/clock/next", "Moving the clock to the next reminder…"));
  document.getElementById("digest").addEventListener("click", () =>
    control("/api/digest", "Sending the weekly digest…"));
  document.getElementById("restart").addEventListener("click", () =>
    control("/api/restart", "Restarting the bot…"));
  document.getElementById("reset").addEventListener("click", () => {
    if (window.confirm("Reset the demo? The database and all three chats start again.")) {
      control("/api/reset", "Resetting the demo…");
    }
  });
}

// --- live updates ---------------------------------------------------------------------------

function onEvent(event) {
  const pane = event.persona ? panes.get(event.persona) : null;
  switch (event.type) {
    case "status":
      showClock(event.clock, event.bot);
      if (event.message && !controlsBusy) setStatus(event.message);
      break;
    case "message":
      if (pane) upsertMessage(pane, event.message);
      break;
    case "deleted":
      if (pane) removeMessage(pane, event.id);
      break;
    case "commands":
      if (pane) renderCommands(pane, event.commands);
      break;
    case "toast":
      if (pane) showToast(pane, event.text);
      break;
    case "reset":
      loadAll();
      break;
    default:
      break;
  }
}

function connectEvents() {
  const source = new EventSource("/api/events");
  let lost = false;
  source.onmessage = (message) => {
    try {
      onEvent(JSON.parse(message.data));
    } catch (error) {
      console.error("could not show an update", error);
    }
  };
  source.onerror = () => {
    lost = true;
    showClock(null, "disconnected");
  };
  source.onopen = () => {
    if (lost) {
      lost = false;
      loadAll(); // catch up on whatever happened while disconnected
    }
  };
}

async function loadAll() {
  let personas;
  for (;;) {
    try {
      personas = await api("GET", "/api/personas");
      break;
    } catch (error) {
      if (error.status !== 503) {
        setStatus(error.message);
        return;
      }
      setStatus("The sandbox is starting…");
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  const main = document.getElementById("panes");
  const same = personas.length === panes.size &&
    personas.every((persona) => panes.has(persona.key) &&
      panes.get(persona.key).persona.user_id === persona.user_id);
  if (!same) {
    panes.clear();
    main.replaceChildren();
    for (const persona of personas) {
      const pane = buildPane(persona);
      panes.set(persona.key, pane);
      main.append(pane.section);
    }
  }
  await Promise.all(Array.from(panes.values()).map(refreshPane));
  const status = await api("GET", "/api/status");
  showClock(status.clock, status.bot);
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", () => {
  wireControls();
  connectEvents();
  loadAll();
});
