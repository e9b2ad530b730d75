/* The batch page: live progress from server-sent events (GET /api/v1/batches/{id}/events:
   `progress` events carry the batch summary without its entries, `done` ends the stream),
   the files' states from GET /api/v1/batches/{id} whenever the summary changes, polling
   when events are not available, and retry buttons for failed files. */
(function () {
  "use strict";
  var S = window.SoHoa;
  var root = document.getElementById("batch");
  if (!root) return;

  var batchId = root.getAttribute("data-batch");
  var mayRetry = root.getAttribute("data-may-retry") === "true";
  var bar = document.getElementById("batch-bar");
  var stateNode = document.getElementById("batch-state");
  var pagesNode = document.getElementById("batch-pages");
  var etaNode = document.getElementById("batch-eta");
  var liveNode = document.getElementById("batch-live");
  var finishedNode = document.getElementById("batch-finished");
  var retryAll = document.getElementById("retry-all");
  var tbody = document.querySelector("#entries tbody");
  var source = null;
  var pollTimer = null;
  var entriesTimer = null;
  var entriesBusy = false;

  function badge(status, outcome) {
    if (status) return S.el("span", { class: "status st-" + status, text: S.t("status." + status) });
    return S.el("span", { class: "status st-failed", text: S.t("outcome." + (outcome || "rejected")) });
  }

  function duration(seconds) {
    if (seconds >= 90) return S.t("js.batch.minutes", { n: Math.round(seconds / 60) });
    return S.t("js.batch.seconds", { n: Math.max(1, Math.round(seconds)) });
  }

  function retryButton(recordId) {
    var button = S.el("button", { type: "button", class: "small", "data-retry": recordId, text: S.t("batch.retry") });
    return button;
  }

  function renderRow(row, entry) {
    row.setAttribute("data-record", entry.record_id || "");
    row.setAttribute("data-status", entry.status || "");
    var cells = row.children;
    cells[0].textContent = entry.filename;
    cells[1].textContent = "";
    cells[1].appendChild(badge(entry.status, entry.outcome));
    if (entry.outcome === "duplicate") {
      cells[1].appendChild(document.createTextNode(" "));
      cells[1].appendChild(S.el("span", { class: "muted small", text: S.t("outcome.duplicate") }));
    }
    cells[2].textContent = "";
    if (entry.error_code || entry.error_message) {
      var known = entry.error_code && S.t("js.errorcode." + entry.error_code);
      var text = known && known !== "js.errorcode." + entry.error_code ? known : entry.error_message;
      cells[2].appendChild(S.el("span", { class: "error-text", text: text }));
    }
    cells[3].textContent = "";
    if (entry.record_id) {
      cells[3].appendChild(S.el("a", { href: "/records/" + entry.record_id, text: S.t("common.open") }));
    }
    if (mayRetry && entry.record_id && entry.status === "failed") {
      cells[3].appendChild(document.createTextNode(" "));
      cells[3].appendChild(retryButton(entry.record_id));
    }
  }

  function update(batch) {
    if (!batch || batch.id !== batchId) return;
    var total = Math.max(batch.pages_total || 0, 1);
    bar.max = total;
    bar.value = Math.min(batch.pages_done || 0, total);
    pagesNode.textContent = S.t("batch.pages", {
      done: S.fmtNumber(batch.pages_done || 0), total: S.fmtNumber(batch.pages_total || 0),
    });
    var counts = batch.counts || {};
    Array.prototype.forEach.call(document.querySelectorAll("[data-count]"), function (node) {
      node.querySelector("b").textContent = counts[node.getAttribute("data-count")] || 0;
    });
    if (retryAll) retryAll.disabled = !counts.failed;
    etaNode.textContent = !batch.done && batch.eta_seconds ? S.t("batch.eta", { time: duration(batch.eta_seconds) }) : "";
    if (!Array.isArray(batch.entries)) {
      refreshEntries();
    } else {
      batch.entries.forEach(function (entry, i) {
        var row = tbody.children[i];
        if (!row) {
          row = S.el("tr", { "data-index": String(i) }, [
            S.el("td", { class: "filename" }), S.el("td", { class: "state" }),
            S.el("td", { class: "message" }), S.el("td", { class: "act" }),
          ]);
          tbody.appendChild(row);
        }
        renderRow(row, entry);
      });
    }
    setDone(!!batch.done);
  }

  function setDone(done) {
    root.setAttribute("data-done", done ? "true" : "false");
    stateNode.textContent = done ? S.t("batch.done") : S.t("batch.running");
    stateNode.className = "status " + (done ? "st-digitized" : "st-processing");
    liveNode.hidden = done;
    finishedNode.hidden = !done;
  }

  /** The files' states (events carry only the counts): at most about once a second. */
  function refreshEntries() {
    if (entriesTimer || entriesBusy) return;
    entriesTimer = setTimeout(function () {
      entriesTimer = null;
      entriesBusy = true;
      S.api("GET", "/api/v1/batches/" + encodeURIComponent(batchId)).then(function (result) {
        entriesBusy = false;
        if (result.ok && result.data && Array.isArray(result.data.entries)) update(result.data);
      });
    }, 800);
  }

  function poll() {
    clearTimeout(pollTimer);
    S.api("GET", "/api/v1/batches/" + encodeURIComponent(batchId)).then(function (result) {
      if (result.ok) update(result.data);
      if (!result.ok || !(result.data && result.data.done)) pollTimer = setTimeout(poll, 2000);
    });
  }

  function stop() {
    if (source) {
      source.close();
      source = null;
    }
    clearTimeout(pollTimer);
  }

  function follow() {
    stop();
    setDone(false);
    if (!window.EventSource) {
      poll();
      return;
    }
    var opened = false;
    source = new EventSource("/api/v1/batches/" + encodeURIComponent(batchId) + "/events");
    source.addEventListener("open", function () {
      opened = true;
      liveNode.textContent = S.t("batch.live");
    });
    source.addEventListener("progress", function (event) {
      try { update(JSON.parse(event.data)); } catch (e) { /* a partial event: wait for the next */ }
    });
    source.addEventListener("done", function (event) {
      try { if (event.data) update(JSON.parse(event.data)); } catch (e) { /* keep what we have */ }
      stop();
      poll(); // one last summary with every entry, then stops by itself (done)
    });
    source.addEventListener("error", function () {
      if (!source) return;
      if (source.readyState === EventSource.CLOSED || !opened) {
        stop(); // no event stream here: ask every two seconds instead
        poll();
      } else {
        liveNode.textContent = S.t("js.batch.offline");
      }
    });
  }

  function retry(url, button) {
    if (button) button.disabled = true;
    S.api("POST", url).then(function (result) {
      if (!result.ok) {
        if (button) button.disabled = false;
        S.toast(S.problem(result.status, result.data), "error");
        return;
      }
      var ids = result.data && result.data.record_ids;
      if (Array.isArray(ids)) {
        S.toast(ids.length ? S.t("js.batch.retried", { n: ids.length }) : S.t("js.batch.nothing"));
      } else {
        S.toast(S.t("js.batch.retry_one"));
      }
      follow();
    });
  }

  tbody.addEventListener("click", function (event) {
    var button = event.target.closest("[data-retry]");
    if (!button) return;
    retry("/api/v1/records/" + encodeURIComponent(button.getAttribute("data-retry")) + "/retry", button);
  });
  if (retryAll) {
    retryAll.addEventListener("click", function () {
      retry("/api/v1/batches/" + encodeURIComponent(batchId) + "/retry", retryAll);
    });
  }

  if (root.getAttribute("data-done") !== "true") follow();
})();
