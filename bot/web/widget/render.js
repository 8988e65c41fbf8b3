  /* Part of the widget's script (widget.js), joined after it: showing the conversation. */

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
