// travelkit's wizard: small helpers for a page that works without them. No framework, no
// outside resource (the Content-Security-Policy allows this file only).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function post(path, body) {
    return fetch(path, { method: "POST", body: body || new FormData(), credentials: "same-origin" });
  }

  // The wizard stops when the page is gone: a heartbeat while it is open, a goodbye when
  // it is closed (a reload or the next step comes back within a few seconds).
  post("/alive").catch(function () {});
  setInterval(function () { post("/alive").catch(function () {}); }, 5000);
  addEventListener("pagehide", function () { navigator.sendBeacon("/bye"); });

  // Submitting: buttons wait (after the form's data is taken), and the page says so.
  document.addEventListener("submit", function (ev) {
    var f = ev.target;
    setTimeout(function () {
      f.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      var w = document.getElementById("working");
      if (w) { w.hidden = false; }
    }, 0);
  });

  // Show what I type.
  var show = document.getElementById("show");
  if (show) {
    show.addEventListener("change", function () {
      document.querySelectorAll("input[data-secret]").forEach(function (i) {
        i.type = show.checked ? "text" : "password";
      });
    });
  }

  // How strong a new passphrase is, as the person types (the passphrase goes in the
  // request's body, never in its address).
  var s = document.querySelector("input[data-strength]");
  var out = document.getElementById("strength");
  if (s && out) {
    var t = null;
    s.addEventListener("input", function () {
      clearTimeout(t);
      t = setTimeout(function () {
        if (!s.value) { out.textContent = ""; return; }
        var fd = new FormData();
        fd.append("new", s.value);
        post("/strength", fd).then(function (r) { return r.json(); }).then(function (v) {
          out.textContent = v.text;
          out.className = v.weak ? "warn" : "ok";
        }).catch(function () {});
      }, 400);
    });
  }

  var step = document.body.getAttribute("data-step");

  // The restore's progress.
  if (step === "progress") {
    var poll = function () {
      fetch("/progress", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (v) {
        if (v.done) { location.reload(); return; }
        var bar = document.getElementById("bar");
        bar.value = v.percent;
        bar.textContent = v.percent + "%";
        document.getElementById("files").textContent = v.files;
        document.getElementById("bytes").textContent = v.bytes;
        document.getElementById("left").textContent = v.left || "";
        document.getElementById("counting").hidden = !v.counting;
        document.getElementById("stopping").hidden = !v.stopping;
        setTimeout(poll, 1000);
      }).catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 1000);
  }

  // Waiting for administrator rights: go on to the copy that has them.
  if (step === "kit" && !document.getElementById("elevated") && document.querySelector("[data-waiting]")) {
    var wait = function () {
      fetch("/elevated", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (v) {
        if (v.url) { location.href = v.url; return; }
        if (v.failed) { location.reload(); return; }
        setTimeout(wait, 1000);
      }).catch(function () { setTimeout(wait, 2000); });
    };
    setTimeout(wait, 1000);
  }
  var go = document.getElementById("elevated");
  if (go) { location.href = go.getAttribute("href"); }
})();
