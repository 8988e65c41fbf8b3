/* The clinic assistant on any page: <script src="https://ASSISTANT_HOST/widget.js" defer></script>
 *
 * This loader is cached briefly; it names the content-hashed bundle of this version, which is
 * cached for good, so every page soon runs the new version and never half of two.
 * It leaves the settings in window.ClinicAssistant, the widget's one global, and loads the bundle.
 */
(function () {
  "use strict";

  var config = "__CONFIG__";
  var script = document.currentScript || document.querySelector('script[src*="/widget.js"]');
  var earlier = window.ClinicAssistant;
  if (!script || (earlier && !earlier.reloading)) {
    return; // one widget, however many tags
  }
  var origin = new URL(script.src, location.href).origin;
  if (location.origin !== origin && config.allowedOrigins.indexOf(location.origin) < 0) {
    console.warn("Clinic assistant: " + location.origin + " is not in the assistant's ALLOWED_ORIGINS, so the chat " +
      "is not shown on this site.");
    return;
  }
  var data = script.dataset;
  window.ClinicAssistant = {
    config: config,
    origin: origin,
    // The page's tag holds the options; a loader fetched again below keeps them.
    options: earlier ? earlier.options : { position: data.position, accent: data.accent, open: data.open, label: data.label }
  };
  var bundle = document.createElement("script");
  bundle.src = origin + config.bundle;
  bundle.async = true;
  // Pages whose CSP allows scripts by nonce ('strict-dynamic') give the tag theirs.
  if (script.nonce) {
    bundle.nonce = script.nonce;
  }
  bundle.onerror = function () {
    // A loader the browser kept from before an update names a bundle this server no longer has:
    // fetch the current loader once, past the cache, instead of showing no widget for minutes.
    if (earlier) {
      return;
    }
    window.ClinicAssistant.reloading = true;
    var fresh = document.createElement("script");
    fresh.src = origin + "/widget.js?fresh=" + Date.now();
    if (script.nonce) {
      fresh.nonce = script.nonce;
    }
    (document.head || document.documentElement).appendChild(fresh);
  };
  (document.head || document.documentElement).appendChild(bundle);
})();
