  /* Part of the widget's script (widget.js), joined after render.js: talking to the relay, opening and
   * closing the panel, and starting. */

  /* Talking to the relay */

  // An answer the relay still holds for a message sent again with its id (bot/web/answers.py keeps
  // them 5 minutes): past this, the message is not sent again, which could make a second turn.
  var RESEND_WITHIN_MS = 4 * 60 * 1000;
  var leaving = false;

  function newMessageId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (byte) { return ("0" + byte.toString(16)).slice(-2); }).join("");
  }

  function postMessage(inFlight) {
    var body = inFlight.button ? { payload: inFlight.text } : { message: inFlight.text };
    body.message_id = inFlight.id;
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
  function offerAgain(inFlight, fromButtons) {
    var text = inFlight.text;
    if (fromButtons) {
      fromButtons.used = false;
      delete fromButtons.chosen;
      var index = state.messages.indexOf(fromButtons);
      var node = log.querySelector('[data-index="' + index + '"]');
      if (node) {
        node.parentNode.replaceChild(renderMessage(fromButtons, index), node);
      }
    } else if (!inFlight.button && !input.value) {
      input.value = text;
      updateCounter();
    }
  }

  function showAnswer(result, inFlight, fromButtons) {
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
      offerAgain(inFlight, fromButtons);
      return appendMessage({ from: "bot", kind: "notice", text: error });
    }
    if (result.status >= 400 && result.status < 500 && error) {
      return appendMessage({ from: "bot", kind: "error", text: "Sorry, that message could not be sent. " + error });
    }
    offerAgain(inFlight, fromButtons);
    return appendMessage({ from: "bot", kind: "offline" });
  }

  // The message is kept (state.inFlight) until its answer has been shown: a visitor who moves to
  // another page meanwhile gets the answer there (resume, below).
  function deliver(inFlight, fromButtons) {
    setPending(true);
    postMessage(inFlight).then(function (result) {
      return leaving ? null : showAnswer(result, inFlight, fromButtons);
    }, function () {
      if (leaving) {
        return null;
      }
      offerAgain(inFlight, fromButtons);
      return appendMessage({ from: "bot", kind: "offline" });
    }).then(function (firstNew) {
      if (leaving) {
        return;
      }
      delete state.inFlight;
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

  function resume() {
    var inFlight = state.inFlight;
    if (!inFlight || typeof inFlight.id !== "string" || typeof inFlight.text !== "string") {
      delete state.inFlight;
      return;
    }
    if (Date.now() - (inFlight.at || 0) > RESEND_WITHIN_MS) {
      delete state.inFlight;
      offerAgain(inFlight, null);
      appendMessage({ from: "bot", kind: "offline" });
      saveState();
      return;
    }
    deliver(inFlight, null);
  }

  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });

  function send(text, shownAs, fromButtons) {
    text = text.trim();
    if (!text || pending) {
      return;
    }
    retireButtons();
    appendMessage({ from: "user", text: shownAs || text });
    scrollToEnd();
    state.inFlight = { id: newMessageId(), text: text, button: Boolean(fromButtons), at: Date.now() };
    saveState();
    deliver(state.inFlight, fromButtons);
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
    resume();
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
