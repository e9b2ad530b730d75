/* The review queue, keyboard first:
   Enter accept (or save the corrections, which also ends the review) · E edit the next
   uncertain field · Esc cancel the edit · J/N next record · K/P previous record.
   Corrections go through PATCH /api/v1/records/{id} with If-Match (the ETag read on load);
   an unchanged record is accepted with POST /api/v1/records/{id}/accept. */
(function () {
  "use strict";
  var S = window.SoHoa;
  var root = document.getElementById("review");
  var form = document.getElementById("review-form");
  if (!root || !form) return;

  var recordId = root.getAttribute("data-record");
  var nextId = root.getAttribute("data-next");
  var prevId = root.getAttribute("data-prev");
  var acceptButton = document.getElementById("accept");
  var cancelButton = document.getElementById("cancel");
  var errorBox = document.getElementById("review-error");
  var recordUrl = "/api/v1/records/" + encodeURIComponent(recordId);
  var etag = null;
  var saving = false;
  var viewer = window.SoHoaPages ? window.SoHoaPages.attach(root, "") : null;

  var inputs = Array.prototype.slice.call(form.querySelectorAll("input, select, textarea"));

  function load() {
    return S.api("GET", recordUrl).then(function (result) {
      if (result.ok) etag = result.headers.get("ETag");
      return result;
    });
  }

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function isChanged(input) {
    return input.value.trim() !== (input.getAttribute("data-original") || "").trim();
  }

  function changed() {
    return inputs.filter(isChanged);
  }

  function refresh() {
    var edits = changed();
    inputs.forEach(function (input) {
      input.closest(".field").classList.toggle("changed", isChanged(input));
    });
    acceptButton.textContent = acceptButton.getAttribute(edits.length ? "data-save" : "data-accept");
    cancelButton.hidden = !edits.length;
  }

  function revert(input) {
    input.value = input.getAttribute("data-original") || "";
  }

  /** Leave for another record, unless corrections would be lost. */
  function leave(id) {
    if (changed().length) {
      S.toast(S.t("js.review.unsaved"), "error");
      return;
    }
    goTo(id);
  }

  function goTo(id) {
    location.assign(id ? "/review?id=" + encodeURIComponent(id) : "/review");
  }

  function labelOf(name) {
    var input = form.querySelector('[name="' + name + '"]');
    var label = input && form.querySelector('label[for="' + input.id + '"]');
    return label ? label.firstChild.textContent.trim() : name;
  }

  /** The JSON of the changed fields, or null after showing what is wrong. */
  function patchBody(edits) {
    var body = {};
    for (var i = 0; i < edits.length; i++) {
      var input = edits[i];
      var value = input.value.trim();
      if (input.getAttribute("data-kind") === "date" && value) {
        var iso = S.parseDate(value);
        if (!iso) {
          showError(S.t("js.review.date_format"));
          input.focus();
          return null;
        }
        value = iso;
      }
      body[input.name] = value === "" ? null : value;
    }
    return body;
  }

  function afterSave(message) {
    S.toast(message, "ok");
    setTimeout(function () { goTo(nextId); }, 300);
  }

  function handleFailure(result) {
    saving = false;
    acceptButton.disabled = false;
    if (result.status === 412) {
      S.toast(S.t("js.review.stale"), "error");
      setTimeout(function () { location.reload(); }, 1200);
    } else if (result.status === 409) {
      S.toast(S.t("js.review.not_waiting"), "error");
      setTimeout(function () { goTo(nextId); }, 1200);
    } else if (result.status === 422 && result.data && Array.isArray(result.data.detail)) {
      var first = result.data.detail[0] || {};
      var loc = first.loc || [];
      showError(S.t("js.review.invalid", { field: labelOf(loc[loc.length - 1]) }) + " — " + (first.msg || ""));
    } else {
      showError(S.problem(result.status, result.data));
    }
  }

  function accept() {
    var headers = etag ? { "If-Match": etag } : {};
    return S.api("POST", recordUrl + "/accept", { headers: headers });
  }

  function save() {
    if (saving) return;
    showError("");
    var edits = changed();
    var body = edits.length ? patchBody(edits) : {};
    if (body === null) return;
    saving = true;
    acceptButton.disabled = true;
    var ready = etag ? Promise.resolve() : load();
    ready.then(function () {
      if (!edits.length) {
        return accept().then(function (result) {
          if (result.ok) afterSave(S.t("js.review.accepted"));
          else handleFailure(result);
        });
      }
      var headers = etag ? { "If-Match": etag } : {};
      return S.api("PATCH", recordUrl, { json: body, headers: headers }).then(function (result) {
        if (!result.ok) {
          handleFailure(result);
          return;
        }
        etag = result.headers.get("ETag") || etag;
        if (result.data && result.data.status === "needs_review") {
          // nothing actually differed from the stored values: accept as it is
          return accept().then(function (second) {
            if (second.ok) afterSave(S.t("js.review.saved"));
            else handleFailure(second);
          });
        }
        afterSave(S.t("js.review.saved"));
      });
    });
  }

  function focusNextUncertain() {
    var unsure = inputs.filter(function (i) { return i.closest(".field").classList.contains("uncertain"); });
    var pool = unsure.length ? unsure : inputs;
    var current = pool.indexOf(document.activeElement);
    var target = pool[(current + 1) % pool.length];
    target.focus();
    if (target.select) target.select();
  }

  function editing(node) {
    return node && (node.tagName === "INPUT" || node.tagName === "SELECT" || node.tagName === "TEXTAREA");
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save();
  });
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  cancelButton.addEventListener("click", function () {
    inputs.forEach(revert);
    refresh();
    showError("");
  });
  inputs.forEach(function (input) {
    input.addEventListener("focus", function () {
      if (viewer) viewer.highlight(input.getAttribute("data-original") || input.value);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (editing(target)) {
      if (event.key === "Escape") {
        event.preventDefault();
        revert(target);
        refresh();
        target.blur();
      } else if (event.key === "Enter" && !(target.tagName === "TEXTAREA" && event.shiftKey)) {
        event.preventDefault();
        save();
      }
      return;
    }
    if (target && (target.tagName === "A" || target.tagName === "BUTTON") && event.key === "Enter") {
      return; // the focused link or button does its own thing
    }
    switch (event.key) {
      case "Enter":
        event.preventDefault();
        save();
        break;
      case "e":
      case "E":
        event.preventDefault();
        focusNextUncertain();
        break;
      case "Escape":
        if (changed().length) {
          inputs.forEach(revert);
          refresh();
        }
        showError("");
        break;
      case "j":
      case "J":
      case "n":
      case "N":
        if (nextId) { event.preventDefault(); leave(nextId); }
        break;
      case "k":
      case "K":
      case "p":
      case "P":
        if (prevId) { event.preventDefault(); leave(prevId); }
        break;
      default:
        break;
    }
  });

  refresh();
  load();
})();
