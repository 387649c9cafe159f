/* 数域 Shuyu: the little script the pages use. Everything works without it, only less live:
   - a task page follows its task (GET /api/v1/me/tasks/{id}) and reloads when it has ended;
   - a form marked data-progress uploads with a progress bar, then opens the page it answers with;
   - a button with data-confirm asks first.
   The anti-forgery token goes with every post: the form's hidden field, and the X-CSRF-Token header. */
(function () {
  "use strict";
  var ENDED = { succeeded: 1, failed: 1, lost: 1 };
  var lang = document.documentElement.lang === "en" ? "en" : "zh";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function follow(box) {
    var id = box.getAttribute("data-task");
    function field(name) { return box.querySelector('[data-field="' + name + '"]'); }
    function poll() {
      fetch("/api/v1/me/tasks/" + encodeURIComponent(id), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (task) {
          if (!task) { return; }
          if (ENDED[task.state]) { window.location.reload(); return; }
          if (task.stage && field("stage")) { field("stage").textContent = lang === "en" ? task.stage.en : task.stage.zh; }
          if (task.stage && field("rows")) { field("rows").textContent = task.stage.rows === null ? "—" : task.stage.rows.toLocaleString("en-US"); }
          if (field("stages_done")) { field("stages_done").textContent = task.stages_done; }
          if (field("elapsed_s") && task.elapsed_s !== null) { field("elapsed_s").textContent = task.elapsed_s; }
          if (field("state")) {
            var states = JSON.parse(box.getAttribute("data-states") || "{}");
            field("state").textContent = states[task.state] || task.state;
            field("state").className = "state state-" + task.state;
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    window.setTimeout(poll, 800);
  }

  function upload(form) {
    var bar = form.querySelector("progress");
    var box = form.querySelector(".progress");
    form.addEventListener("submit", function (event) {
      if (!window.XMLHttpRequest || !window.FormData) { return; }
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      if (csrf()) { xhr.setRequestHeader("X-CSRF-Token", csrf()); }
      if (box) { box.hidden = false; }
      xhr.upload.addEventListener("progress", function (e) {
        if (bar && e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status < 400 && xhr.responseURL) { window.location.assign(xhr.responseURL); return; }
        document.open(); document.write(xhr.responseText); document.close();
      });
      xhr.addEventListener("error", function () { form.submit(); });
      xhr.send(new FormData(form));
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = true; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll('[data-task][data-ended="no"]'), follow);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-progress]"), upload);
    Array.prototype.forEach.call(document.querySelectorAll("[data-confirm]"), function (el) {
      el.addEventListener("click", function (event) {
        if (!window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  });
})();
