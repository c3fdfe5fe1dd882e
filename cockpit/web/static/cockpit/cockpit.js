// The cockpit page's behaviour: the fragments' JWT, a fragment that is not
// there, the switch's reload. The charts are the lab's (lab/static/charts.js);
// everything else is htmx.
(function () {
  "use strict";
  let jwt = null;

  // 1. Every response is swapped (htmx 2 keeps 4xx/5xx out by default):
  //    the cockpit's refusals (409, 400) and the services' refused forms are
  //    HTML meant to be shown. Fragment slots are checked in beforeSwap.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: ".*", swap: true, error: false },
  ];

  // 2. The fragments' requests carry the JWT (they go to /ui/ on the gateway).
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (jwt && event.detail.path.startsWith("/ui/")) {
      event.detail.headers["Authorization"] = "Bearer " + jwt;
    }
  });

  function slotOf(element) {
    return element && element.closest ? element.closest(".fragment-slot") : null;
  }

  function isFragment(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    return type.startsWith("text/html") && /class="fragment"/.test(xhr.responseText);
  }

  // 3. A slot whose answer is not a fragment (a 5xx, the gateway's JSON, a
  //    network error) says which service is unavailable, with a retry button;
  //    the other slot is not touched.
  function showUnavailable(slot, why) {
    const label = slot.dataset.serviceLabel;
    slot.innerHTML = "";
    const box = document.createElement("div");
    box.className = "unavailable";
    box.setAttribute("role", "alert");
    const text = document.createElement("p");
    text.textContent = label + " unavailable";
    const detail = document.createElement("p");
    detail.className = "note";
    detail.textContent = why;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.textContent = "Retry " + label;
    retry.addEventListener("click", function () { loadSlot(slot); });
    box.append(text, detail, retry);
    slot.append(box);
  }

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    const slot = slotOf(event.detail.target);
    if (!slot) return;
    const xhr = event.detail.xhr;
    if (isFragment(xhr)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      return;
    }
    event.detail.shouldSwap = false;
    let why = "answered " + xhr.status;
    try { why += ": " + JSON.parse(xhr.responseText).detail; } catch (e) { /* not JSON */ }
    showUnavailable(slot, why);
  });

  document.body.addEventListener("htmx:sendError", function (event) {
    const slot = slotOf(event.detail.target || event.detail.elt);
    if (slot) showUnavailable(slot, "no answer (network error)");
  });

  async function fetchJwt() {
    const answer = await fetch("/jwt/", { credentials: "same-origin" });
    if (!answer.ok) throw new Error("no JWT (" + answer.status + ")");
    jwt = (await answer.json()).access;
  }

  async function loadSlot(slot) {
    try {
      if (!jwt) await fetchJwt();
      htmx.trigger(slot, "cockpit-load");
    } catch (error) {
      showUnavailable(slot, error.message);
    }
  }

  function loadSlots() {
    jwt = null;
    document.querySelectorAll(".fragment-slot").forEach(loadSlot);
  }

  // 4. A switch that is done changed everything on the page: load it again.
  document.body.addEventListener("cockpit-switched", function () {
    window.location.reload();
  });

  // A service stopped or started by hand, or a scenario done (its data in
  // the services): each fragment asked again.
  document.body.addEventListener("cockpit-services-changed", loadSlots);
  document.body.addEventListener("cockpit-result-kept", function () {
    document.querySelectorAll(".fragment-slot").forEach(loadSlot);
  });

  // 5. A job's progress shows its newest line.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    event.target.querySelectorAll(".progress").forEach(function (list) {
      list.scrollTop = list.scrollHeight;
    });
  });
  document.querySelectorAll(".progress").forEach(function (list) {
    list.scrollTop = list.scrollHeight;
  });

  loadSlots();
  // A JWT lives minutes: take a fresh one before the next fragment request.
  setInterval(function () { jwt = null; fetchJwt().catch(function () {}); }, 120000);
})();
