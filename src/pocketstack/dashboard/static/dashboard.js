/* pocketstack dashboard: progressive enhancement only; every page works without it.
   - a select marked data-autosubmit submits its form on change (the project switcher);
   - buttons marked data-confirm ask first;
   - an element marked data-poll="URL" is refreshed from URL every few seconds while
     it says data-busy="1" (the instances list while servers build);
   - a form marked data-upload sends its file with a progress bar.
   Licence: Apache-2.0, as pocketstack. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]")) { el.form.submit(); }
  });

  document.addEventListener("click", function (event) {
    var el = event.target.closest && event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
  });

  function poll(el) {
    if (el.getAttribute("data-busy") !== "1") { return; }
    window.setTimeout(function () {
      fetch(el.getAttribute("data-poll"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null) { return; }
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.firstElementChild;
          if (fresh) { el.replaceWith(fresh); poll(fresh); }
        })
        .catch(function () { poll(el); });
    }, 2000);
  }
  document.querySelectorAll("[data-poll]").forEach(poll);

  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var bar = form.querySelector("progress");
      var target = form.getAttribute("action");  // form.action would be its field named "action"
      var xhr = new XMLHttpRequest();
      xhr.open("POST", target);
      xhr.setRequestHeader("X-Requested-With", "fetch");
      xhr.upload.addEventListener("progress", function (e) {
        if (bar && e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      });
      xhr.addEventListener("load", function () {
        var next = xhr.getResponseHeader("X-Location");
        if (next) { window.location.assign(next); return; }
        document.open(); document.write(xhr.responseText); document.close();  // an error page
      });
      xhr.addEventListener("error", function () { HTMLFormElement.prototype.submit.call(form); });
      if (bar) { bar.hidden = false; }
      xhr.send(new FormData(form));
    });
  });
})();
