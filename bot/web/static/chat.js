/* The clinic's chat widget: a launcher, a dialog with the conversation, and the relay call.
 *
 * Message text is only ever set with textContent, never parsed as HTML.
 * The conversation (the id the server issued with its first answer, and the rendered
 * messages) lives in sessionStorage, so it survives reloads in the same tab and ends with it.
 * A button sends back the payload the server signed, as "payload"; typed text goes as "message".
 */
(function () {
  "use strict";

  var STORAGE_KEY = "clinic-chat-v2";
  var KEPT_MESSAGES = 200;
  var COUNTER_FROM = 0.9; // show the character counter from 90% of the limit

  var root = document.getElementById("chat");
  var configNode = document.getElementById("chat-config");
  if (!root || !configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);

  var launcher = document.getElementById("chat-launcher");
  var panel = document.getElementById("chat-panel");
  var closeButton = document.getElementById("chat-close");
  var log = document.getElementById("chat-log");
  var typing = document.getElementById("chat-typing");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var counter = document.getElementById("chat-counter");

  var pending = false;
  var memoryStore = null; // used when the browser refuses sessionStorage

  function loadState() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(STORAGE_KEY);
    } catch (e) {
      raw = memoryStore;
    }
    if (raw) {
      try {
        var saved = JSON.parse(raw);
        if (saved && (typeof saved.senderId === "string" || saved.senderId === null) && Array.isArray(saved.messages)) {
          return saved;
        }
      } catch (e) { /* a damaged entry starts a new conversation */ }
    }
    return { senderId: null, messages: [], open: false };
  }

  function saveState() {
    state.messages = state.messages.slice(-KEPT_MESSAGES);
    var raw = JSON.stringify(state);
    try {
      window.sessionStorage.setItem(STORAGE_KEY, raw);
    } catch (e) {
      memoryStore = raw;
    }
  }

  var state = loadState();

  /* Rendering */

  function speakerLabel(from) {
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = from === "user" ? "You said: " : "The clinic's assistant said: ";
    return label;
  }

  function phoneLink() {
    var link = document.createElement("a");
    link.href = config.tel;
    link.textContent = config.phone;
    return link;
  }

  function fillBubble(bubble, message) {
    if (message.kind === "offline") {
      bubble.appendChild(document.createTextNode(
        "Sorry, the chat is not answering right now. Please try again in a moment, or call us at "));
      bubble.appendChild(phoneLink());
      bubble.appendChild(document.createTextNode("."));
    } else if (message.kind === "notice") {
      // The server's own words (unavailable, busy, too many messages), with its phone number as a link.
      message.text.split(config.phone).forEach(function (part, index) {
        if (index > 0) {
          bubble.appendChild(phoneLink());
        }
        bubble.appendChild(document.createTextNode(part));
      });
    } else if (message.kind === "unheard") {
      bubble.appendChild(document.createTextNode("Sorry, I didn't catch that. You can rephrase, or call us at "));
      bubble.appendChild(phoneLink());
      bubble.appendChild(document.createTextNode("."));
    } else {
      bubble.appendChild(document.createTextNode(message.text));
    }
  }

  function renderMessage(message, index) {
    var item = document.createElement("div");
    item.className = "chat-message from-" + message.from + (message.kind ? " kind-" + message.kind : "");
    item.setAttribute("data-index", String(index));
    if (message.text || message.kind) {
      item.appendChild(speakerLabel(message.from));
      var bubble = document.createElement("p");
      bubble.className = "chat-bubble";
      fillBubble(bubble, message);
      item.appendChild(bubble);
    }
    if (message.buttons && message.buttons.length) {
      var group = document.createElement("div");
      group.className = "chat-buttons";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested replies");
      message.buttons.forEach(function (button, buttonIndex) {
        var element = document.createElement("button");
        element.type = "button";
        element.className = "chat-button" + (message.chosen === buttonIndex ? " chosen" : "");
        element.textContent = button.title;
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
            hadFocus = hadFocus || document.activeElement === button;
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
    return window.fetch(config.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined,
      credentials: "same-origin"
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
      if (result.body && typeof result.body.sender_id === "string") {
        state.senderId = result.body.sender_id;
      } else if (result.body && result.body.new_conversation === true) {
        state.senderId = null;
      }
      if (result.status === 200 && result.body && Array.isArray(result.body.messages)) {
        var first = null;
        result.body.messages.forEach(function (message) {
          var node = appendMessage({
            from: "bot",
            text: typeof message.text === "string" ? message.text : "",
            buttons: Array.isArray(message.buttons) ? message.buttons : []
          });
          first = first || node;
        });
        // Silence would look like the chat had stopped working.
        return first || appendMessage({ from: "bot", kind: "unheard" });
      }
      var error = result.body && typeof result.body.error === "string" ? result.body.error : "";
      if ((result.status === 429 || result.status === 503) && error) {
        offerAgain(text, fromButtons);
        return appendMessage({ from: "bot", kind: "notice", text: error });
      }
      if (result.status >= 400 && result.status < 500 && error) {
        return appendMessage({ from: "bot", kind: "error", text: "Sorry, that message could not be sent. " + error });
      }
      offerAgain(text, fromButtons);
      return appendMessage({ from: "bot", kind: "offline" });
    }, function () {
      offerAgain(text, fromButtons);
      return appendMessage({ from: "bot", kind: "offline" });
    }).then(function (firstNew) {
      setPending(false);
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
    root.classList.add("is-open");
    document.body.classList.add("chat-is-open");
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    saveState();
    scrollToEnd();
    if (moveFocus !== false) {
      input.focus();
    }
  }

  function close() {
    panel.hidden = true;
    root.classList.remove("is-open");
    document.body.classList.remove("chat-is-open");
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) {
      close();
    } else {
      open();
    }
  });

  closeButton.addEventListener("click", close);

  var fullScreen = window.matchMedia("(max-width: 40rem)");

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
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
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

  // The page's calls to action open the chat and ask on the visitor's behalf.
  document.querySelectorAll("[data-chat-message]").forEach(function (element) {
    element.setAttribute("role", "button");
    element.addEventListener("click", function (event) {
      event.preventDefault();
      open();
      send(element.getAttribute("data-chat-message"));
    });
    element.addEventListener("keydown", function (event) {
      if (event.key === " ") {
        event.preventDefault();
        element.click();
      }
    });
  });

  /* Start */

  if (!state.messages.length) {
    state.messages.push({ from: "bot", kind: "greeting", text: config.greeting, buttons: config.topics });
    saveState();
  }
  renderAll();
  root.hidden = false;
  if (state.open) {
    open(false);
  }
})();
