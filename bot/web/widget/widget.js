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
 *
 * One script in three files, joined in this order inside this function by bot/web/widget.py:
 * widget.js (settings, the DOM, colours, the stored conversation), render.js, relay.js.
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

  // A page whose Content-Security-Policy lets the script in but not its calls: say so where the
  // site's webmaster looks, since the visitor can only be told the chat is not answering.
  var cspWarned = false;
  document.addEventListener("securitypolicyviolation", function (event) {
    if (!cspWarned && String(event.blockedURI || "").indexOf(app.origin) === 0) {
      cspWarned = true;
      console.warn("Clinic assistant: this page's Content-Security-Policy (" + event.violatedDirective + ") blocks " +
        app.origin + ". Add it to connect-src, as the assistant's README shows.");
    }
  });

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
