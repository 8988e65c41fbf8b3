/* The clinic assistant's chat widget: a launcher, a dialog with the conversation, and the relay call.
 *
 * Loaded by /widget.js, which leaves the settings in window.ClinicAssistant, the widget's one global.
 * Everything lives in an open shadow root on an element of its own, so the host page's CSS
 * cannot reach it and its CSS cannot reach the page. The DOM is built with createElement:
 * message text is only ever set with textContent, never parsed as HTML.
 * The conversation (the id the server issued with its first answer, and the rendered messages)
 * lives in the host page's sessionStorage, so it survives reloads and moving between the site's
 * pages in the same tab, and ends with the tab or after FORGET_AFTER_MS of silence (the server's
 * WIDGET_CONVERSATION_HOURS; with WIDGET_CONVERSATION_ACROSS_TABS, localStorage: every tab of the site).
 * A button sends back the payload the server signed, as "payload"; typed text goes as "message".
 */
(function () {
  "use strict";

  var app = window.ClinicAssistant;
  if (!app || !app.config || app.host) {
    return;
  }
  var config = app.config;
  var options = app.options || {};
  var CSS_TEXT = "__CSS__";
  var STORAGE_KEY = "clinic-assistant";
  var FORGET_AFTER_MS = (config.conversationHours || 24) * 60 * 60 * 1000;
  var KEPT_MESSAGES = 200;
  var COUNTER_FROM = 0.9; // show the character counter from 90% of the limit
  var MAX_OPEN_DELAY_SECONDS = 600;
  var SVG = "http://www.w3.org/2000/svg";
  var LABEL = String(options.label || "").trim().slice(0, 40) || "Ask us a question";

  /* Building the DOM */

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attributes.text;
      } else if (attributes[name] === true) {
        node.setAttribute(name, "");
      } else {
        node.setAttribute(name, attributes[name]);
      }
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function icon(className, path) {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", className);
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape = document.createElementNS(SVG, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  var CROSS = "M6 6l12 12M18 6L6 18";
  var host = document.createElement("clinic-assistant");
  var root = host.attachShadow({ mode: "open" });
  app.host = host;

  // Constructed style sheets are outside the page's CSP style-src, so the host page needs no style line.
  if (root.adoptedStyleSheets && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS_TEXT);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: CSS_TEXT }));
  }

  var launcherLabel = el("span", { "class": "chat-launcher-label", text: LABEL });
  var badge = el("span", { "class": "chat-badge", "aria-hidden": "true", hidden: true });
  // The visible label is hidden while the chat is open, so the name comes from aria-label, which starts
  // with the visible words for those who name the button by voice. aria-expanded gives the state.
  var launcher = el("button", {
    type: "button", "class": "chat-launcher", id: "chat-launcher", "aria-expanded": "false", "aria-controls": "chat-panel"
  }, [icon("icon-open", "M4 4h16a1 1 0 0 1 1 1v11a1 1 0 0 1-1 1H9l-4.4 3.5A.4.4 0 0 1 4 20.2V17a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1z"),
    icon("icon-close", CROSS), launcherLabel, badge]);
  var closeButton = el("button", { type: "button", "class": "chat-close", id: "chat-close", "aria-label": "Close chat" },
    [icon("", CROSS)]);
  var log = el("div", { "class": "chat-log", id: "chat-log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var typing = el("div", { "class": "chat-typing", id: "chat-typing", role: "status", hidden: true }, [
    el("span", { "class": "visually-hidden", text: "The assistant is typing" }),
    el("span", { "class": "typing-dots", "aria-hidden": "true" }, [el("span"), el("span"), el("span")])
  ]);
  var input = el("textarea", {
    "class": "chat-input", id: "chat-input", name: "message", rows: "1", maxlength: String(config.maxChars),
    placeholder: "Type your question", autocomplete: "off", "aria-describedby": "chat-counter"
  });
  var counter = el("p", { "class": "chat-counter", id: "chat-counter", hidden: true });
  var form = el("form", { "class": "chat-form", id: "chat-form", novalidate: true }, [
    el("label", { "class": "visually-hidden", "for": "chat-input", text: "Your message" }),
    input,
    el("button", { type: "submit", "class": "chat-send", id: "chat-send" }, [
      icon("", "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"),
      el("span", { "class": "visually-hidden", text: "Send" })
    ]),
    counter
  ]);
  var panel = el("section", {
    "class": "chat-panel", id: "chat-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "chat-title", "aria-describedby": "chat-subtitle", hidden: true
  }, [
    el("header", { "class": "chat-header" }, [
      el("div", {}, [
        el("h2", { "class": "chat-title", id: "chat-title", text: config.clinicName }),
        el("p", { "class": "chat-subtitle", id: "chat-subtitle",
          text: "Answers from our osteoporosis article. In an emergency, call 911." })
      ]),
      closeButton
    ]),
    log,
    typing,
    form
  ]);
  var chat = el("div", { "class": "chat" + (options.position === "left" ? " at-left" : ""), id: "chat" },
    [launcher, panel]);
  root.appendChild(chat);

  /* Colours: data-accent, with text on it dark or white, whichever can be read */

  function luminance(rgb) {
    var channels = rgb.map(function (value) {
      value /= 255;
      return value <= 0.03928 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2];
  }

  function applyAccent(accent) {
    if (!accent || !window.CSS || !CSS.supports("color", accent)) {
      if (accent) {
        console.warn("Clinic assistant: data-accent=\"" + accent + "\" is not a CSS colour; the default is used.");
      }
      return;
    }
    chat.style.color = accent;
    var rgb = (getComputedStyle(chat).color.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    chat.style.color = "";
    if (rgb.length < 3) {
      return;
    }
    var light = 1.05 / (luminance(rgb) + 0.05) < 4.5; // white text on it would be hard to read
    var mixed = "color-mix(in srgb, " + accent + " 78%, #000)";
    var style = host.style;
    style.setProperty("--clinic-assistant-accent", accent);
    style.setProperty("--clinic-assistant-accent-hover", CSS.supports("color", mixed) ? mixed : accent);
    style.setProperty("--clinic-assistant-on-accent", light ? "#1d2a32" : "#fff");
    style.setProperty("--clinic-assistant-accent-ink", light ? "#1d2a32" : (CSS.supports("color", mixed) ? mixed : accent));
  }

  /* The conversation kept in this tab */

  var pending = false;
  var memoryStore = null; // used when the browser refuses the storage

  function storage() {
    return config.conversationAcrossTabs ? window.localStorage : window.sessionStorage;
  }

  function freshState() {
    return { senderId: null, messages: [], open: false, closed: false, unread: 0 };
  }

  function loadState() {
    var raw = null;
    try {
      raw = storage().getItem(STORAGE_KEY);
    } catch (e) {
      raw = memoryStore;
    }
    if (raw) {
      try {
        var saved = JSON.parse(raw);
        if (saved && (typeof saved.senderId === "string" || saved.senderId === null) && Array.isArray(saved.messages) &&
            Date.now() - (saved.savedAt || 0) < FORGET_AFTER_MS) {
          return saved;
        }
      } catch (e) { /* a damaged entry starts a new conversation */ }
    }
    return freshState();
  }

  function saveState() {
    state.messages = state.messages.slice(-KEPT_MESSAGES);
    state.savedAt = Date.now();
    var raw = JSON.stringify(state);
    try {
      storage().setItem(STORAGE_KEY, raw);
    } catch (e) {
      memoryStore = raw;
    }
  }

  var state = loadState();

  /* Rendering */

  function speakerLabel(from) {
    return el("span", { "class": "visually-hidden", text: from === "user" ? "You said: " : "The clinic's assistant said: " });
  }

  function phoneLink() {
    return el("a", { href: config.tel, text: config.phone });
  }

  function withPhone(bubble, before, after) {
    bubble.appendChild(document.createTextNode(before));
    bubble.appendChild(phoneLink());
    bubble.appendChild(document.createTextNode(after));
  }

  // Only links into the clinic's article, as the relay gives them; never javascript: or the like.
  function sourceLink(link) {
    if (!link || typeof link.href !== "string" || typeof link.title !== "string" || !/^(https?:\/\/|\/|#)/.test(link.href)) {
      return null;
    }
    var anchor = el("a", { "class": "chat-source", href: link.href, text: "Read more in our article: " + link.title });
    anchor.addEventListener("click", function () {
      var target = new URL(anchor.href);
      // At phone width the panel covers the page: close it to show the section on this same page.
      if (fullScreen.matches && target.origin === location.origin && target.pathname === location.pathname) {
        close(false);
      }
    });
    return anchor;
  }

  function fillBubble(bubble, message) {
    if (message.kind === "offline") {
      withPhone(bubble, "Sorry, the chat is not answering right now. Please try again in a moment, or call us at ", ".");
    } else if (message.kind === "notice") {
      // The server's own words (unavailable, busy, too many messages), with its phone number as a link.
      message.text.split(config.phone).forEach(function (part, index) {
        if (index > 0) {
          bubble.appendChild(phoneLink());
        }
        bubble.appendChild(document.createTextNode(part));
      });
    } else if (message.kind === "unheard") {
      withPhone(bubble, "Sorry, I didn't catch that. You can rephrase, or call us at ", ".");
    } else {
      bubble.appendChild(document.createTextNode(message.text));
      var source = sourceLink(message.link);
      if (source) {
        bubble.appendChild(source);
      }
    }
  }

  function renderMessage(message, index) {
    var item = el("div", {
      "class": "chat-message from-" + message.from + (message.kind ? " kind-" + message.kind : ""),
      "data-index": String(index)
    });
    if (message.text || message.kind) {
      item.appendChild(speakerLabel(message.from));
      var bubble = el("p", { "class": "chat-bubble" });
      fillBubble(bubble, message);
      item.appendChild(bubble);
    }
    if (message.buttons && message.buttons.length) {
      var group = el("div", { "class": "chat-buttons", role: "group", "aria-label": "Suggested replies" });
      message.buttons.forEach(function (button, buttonIndex) {
        var element = el("button", {
          type: "button", "class": "chat-button" + (message.chosen === buttonIndex ? " chosen" : ""), text: button.title
        });
        element.disabled = Boolean(message.used);
        element.addEventListener("click", function () {
          if (message.used || pending) {
            return;
          }
          message.chosen = buttonIndex;
          send(button.payload, button.title, message);
        });
        group.appendChild(element);
      });
      item.appendChild(group);
    }
    return item;
  }

  function appendMessage(message) {
    state.messages.push(message);
    var node = renderMessage(message, state.messages.length - 1);
    log.appendChild(node);
    return node;
  }

  function renderAll() {
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    state.messages.forEach(function (message, index) {
      log.appendChild(renderMessage(message, index));
    });
    scrollToEnd();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // Show the start of a long answer rather than its end.
  function scrollToMessage(node) {
    var top = node.offsetTop - 8;
    log.scrollTop = top < log.scrollHeight - log.clientHeight ? top : log.scrollHeight;
  }

  function retireButtons() {
    var hadFocus = false;
    state.messages.forEach(function (message, index) {
      if (message.buttons && message.buttons.length && !message.used) {
        message.used = true;
        var node = log.querySelector('[data-index="' + index + '"]');
        if (node) {
          node.querySelectorAll(".chat-button").forEach(function (button, buttonIndex) {
            hadFocus = hadFocus || root.activeElement === button;
            button.disabled = true;
            if (message.chosen === buttonIndex) {
              button.classList.add("chosen");
            }
          });
        }
      }
    });
    // A disabled button drops focus to <body>, outside the panel, where Escape and Tab no longer reach the chat.
    if (hadFocus) {
      input.focus();
    }
  }

  function setPending(value) {
    pending = value;
    typing.hidden = !value;
    form.classList.toggle("is-pending", value);
    if (value) {
      scrollToEnd();
    }
  }

  function updateCounter() {
    var length = input.value.length;
    if (length >= Math.floor(config.maxChars * COUNTER_FROM)) {
      counter.hidden = false;
      counter.textContent = length + " / " + config.maxChars + " characters";
      counter.classList.toggle("at-limit", length >= config.maxChars);
    } else {
      counter.hidden = true;
      counter.textContent = "";
    }
  }

  function showUnread() {
    var name = LABEL + ": chat with the clinic's assistant";
    badge.hidden = !state.unread;
    badge.textContent = state.unread ? String(state.unread) : "";
    if (state.unread) {
      name += " (" + state.unread + (state.unread === 1 ? " new answer)" : " new answers)");
    }
    launcher.setAttribute("aria-label", name);
  }

  /* Talking to the relay */

  function postMessage(text, isButton) {
    var body = isButton ? { payload: text } : { message: text };
    if (state.senderId) {
      body.sender_id = state.senderId;
    }
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = window.setTimeout(function () {
      if (controller) {
        controller.abort();
      }
    }, config.timeoutMs);
    return window.fetch(app.origin + config.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined,
      credentials: "omit"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }).finally(function () {
      window.clearTimeout(timer);
    });
  }

  // The turn did not get through: the visitor can send it again as it was.
  function offerAgain(text, fromButtons) {
    if (fromButtons) {
      fromButtons.used = false;
      delete fromButtons.chosen;
      var index = state.messages.indexOf(fromButtons);
      var node = log.querySelector('[data-index="' + index + '"]');
      if (node) {
        node.parentNode.replaceChild(renderMessage(fromButtons, index), node);
      }
    } else if (!input.value) {
      input.value = text;
      updateCounter();
    }
  }

  function showAnswer(result, text, fromButtons) {
    var body = result.body || {};
    if (typeof body.sender_id === "string") {
      state.senderId = body.sender_id;
    } else if (body.new_conversation === true) {
      state.senderId = null;
    }
    if (result.status === 200 && Array.isArray(body.messages)) {
      var first = null;
      body.messages.forEach(function (message) {
        var node = appendMessage({
          from: "bot",
          text: typeof message.text === "string" ? message.text : "",
          buttons: Array.isArray(message.buttons) ? message.buttons : [],
          link: message.link || null
        });
        first = first || node;
      });
      // Silence would look like the chat had stopped working.
      return first || appendMessage({ from: "bot", kind: "unheard" });
    }
    var error = typeof body.error === "string" ? body.error : "";
    if ((result.status === 429 || result.status === 503) && error) {
      offerAgain(text, fromButtons);
      return appendMessage({ from: "bot", kind: "notice", text: error });
    }
    if (result.status >= 400 && result.status < 500 && error) {
      return appendMessage({ from: "bot", kind: "error", text: "Sorry, that message could not be sent. " + error });
    }
    offerAgain(text, fromButtons);
    return appendMessage({ from: "bot", kind: "offline" });
  }

  function send(text, shownAs, fromButtons) {
    text = text.trim();
    if (!text || pending) {
      return;
    }
    retireButtons();
    appendMessage({ from: "user", text: shownAs || text });
    scrollToEnd();
    saveState();
    setPending(true);
    postMessage(text, Boolean(fromButtons)).then(function (result) {
      return showAnswer(result, text, fromButtons);
    }, function () {
      offerAgain(text, fromButtons);
      return appendMessage({ from: "bot", kind: "offline" });
    }).then(function (firstNew) {
      setPending(false);
      if (!isOpen()) {
        state.unread = (state.unread || 0) + 1;
        showUnread();
      }
      saveState();
      if (firstNew) {
        scrollToMessage(firstNew);
      }
    });
  }

  /* Opening and closing */

  function isOpen() {
    return !panel.hidden;
  }

  function open(moveFocus) {
    panel.hidden = false;
    chat.classList.add("is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    state.unread = 0;
    showUnread();
    saveState();
    scrollToEnd();
    if (moveFocus !== false) {
      input.focus();
    }
  }

  function close(moveFocus) {
    panel.hidden = true;
    chat.classList.remove("is-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    state.closed = true;
    saveState();
    if (moveFocus !== false) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) {
      close();
    } else {
      open();
    }
  });

  closeButton.addEventListener("click", function () {
    close();
  });

  var fullScreen = window.matchMedia("(max-width: 640px)");

  // When the panel covers the page, Tab stays inside it instead of reaching hidden links.
  function keepFocusInside(event) {
    var focusable = Array.prototype.filter.call(
      panel.querySelectorAll("button, a[href], textarea"),
      function (element) { return !element.disabled && element.getClientRects().length; }
    );
    if (!focusable.length) {
      return;
    }
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && root.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && root.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Tab" && fullScreen.matches) {
      keepFocusInside(event);
    }
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  input.addEventListener("input", updateCounter);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (pending || !input.value.trim()) {
      return;
    }
    var text = input.value;
    input.value = "";
    updateCounter();
    send(text);
  });

  function ask(text) {
    open();
    send(String(text || ""));
  }

  // The page's own calls to action (data-chat-message="...") open the chat and ask on the visitor's behalf.
  function callToAction(event) {
    var element = event.target && event.target.closest ? event.target.closest("[data-chat-message]") : null;
    if (!element || (event.type === "keydown" && event.key !== " ")) {
      return;
    }
    event.preventDefault();
    ask(element.getAttribute("data-chat-message"));
  }

  function start() {
    document.querySelectorAll("[data-chat-message]").forEach(function (element) {
      element.setAttribute("role", "button");
    });
    document.addEventListener("click", callToAction);
    document.addEventListener("keydown", callToAction);
    // Beside <body>, not in it: a transform or filter on <body> (common in themes) would pin
    // position: fixed to the body instead of the window.
    document.documentElement.appendChild(host);
    applyAccent(String(options.accent || "").trim()); // computed styles need the widget in the page
    if (!state.messages.length) {
      state.messages.push({ from: "bot", kind: "greeting", text: config.greeting, buttons: config.topics });
      saveState();
    }
    renderAll();
    showUnread();
    if (state.open) {
      open(false);
    } else if (!state.closed && !state.senderId && !fullScreen.matches) {
      // data-open: "load" or a number of seconds; never at phone width, where the panel would cover the page.
      var delay = options.open === "load" ? 0 : Number(options.open);
      if (options.open && delay >= 0 && delay <= MAX_OPEN_DELAY_SECONDS) {
        window.setTimeout(function () {
          if (!state.closed && !isOpen()) {
            open(false);
          }
        }, delay * 1000);
      }
    }
  }

  app.open = function () { open(); };
  app.close = function () { close(); };
  app.ask = ask;

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
