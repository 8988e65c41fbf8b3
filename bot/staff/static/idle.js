/* The idle sign-out of the staff pages.
 *
 * The server ends a session after STAFF_IDLE_MINUTES without activity. Two minutes before, this
 * shows a warning with one button to stay signed in (which opens a staff page in the background:
 * any page counts as activity); when the time is up it reloads the page, which then shows sign-in.
 * A page that answered a form reloads as the page the form was on (data-reload-url).
 */
(function () {
  "use strict";

  var box = document.getElementById("idle-warning");
  if (!box) {
    return;
  }
  var idleMs = Number(box.dataset.idleSeconds) * 1000;
  var warnMs = Math.min(Number(box.dataset.warnSeconds) * 1000, idleMs / 2);
  var reloadUrl = box.dataset.reloadUrl || window.location.href;
  var stay = box.querySelector("button");
  var warnTimer = null;
  var leaveTimer = null;
  var focusedBefore = null;

  function schedule() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(leaveTimer);
    warnTimer = window.setTimeout(warn, idleMs - warnMs);
    leaveTimer = window.setTimeout(function () {
      window.location.replace(reloadUrl);
    }, idleMs);
  }

  function warn() {
    focusedBefore = document.activeElement;
    box.hidden = false;
    stay.focus();
  }

  function dismiss() {
    box.hidden = true;
    if (focusedBefore && focusedBefore.focus) {
      focusedBefore.focus();
    }
  }

  stay.addEventListener("click", function () {
    stay.disabled = true;
    window.fetch(reloadUrl, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      // Signed out meanwhile (another tab, an administrator): show sign-in now.
      if (!response.ok || new URL(response.url).pathname.indexOf("/login") >= 0) {
        window.location.replace(reloadUrl);
        return;
      }
      stay.disabled = false;
      dismiss();
      schedule();
    }, function () {
      stay.disabled = false;
    });
  });

  schedule();
})();
