/* Upload: choose or drop files and folders, send them in groups (one batch per group) with
   per-file progress, then open the batch page. Each group carries its own Idempotency-Key,
   so a group sent again after a network error never makes a second batch. */
(function () {
  "use strict";
  var S = window.SoHoa;
  var form = document.getElementById("upload-form");
  if (!form) return;

  var GROUP = Math.max(1, parseInt(form.getAttribute("data-group"), 10) || 20);
  var GROUP_BYTES = 512 * 1024 * 1024; // a group never carries more than this
  var RETRIES = 3;
  var SKIP = /^(\..*|thumbs\.db|desktop\.ini)$/i;

  var dropzone = document.getElementById("dropzone");
  var filesInput = document.getElementById("files");
  var folderInput = document.getElementById("folder");
  var startButton = document.getElementById("start");
  var clearButton = document.getElementById("clear");
  var summary = document.getElementById("summary");
  var errorBox = document.getElementById("upload-error");
  var links = document.getElementById("batch-links");
  var section = document.getElementById("file-section");
  var tbody = document.querySelector("#file-table tbody");

  var unitField = document.getElementById("unit");
  var dossierField = document.getElementById("dossier");
  var labelField = document.getElementById("label");
  var items = []; // {file, path, row, bar, result, state}
  var seen = {};
  var busy = false;

  function showError(text) {
    errorBox.textContent = text || "";
    errorBox.hidden = !text;
  }

  function refresh() {
    var total = items.reduce(function (sum, item) { return sum + item.file.size; }, 0);
    summary.textContent = items.length
      ? S.t("js.upload.total", { n: items.length, size: S.fmtSize(total) })
      : S.t("js.upload.none");
    startButton.disabled = busy || !items.some(function (i) { return i.state === "waiting"; });
    clearButton.disabled = busy || !items.length;
    section.hidden = !items.length;
  }

  function setResult(item, text, kind) {
    item.result.textContent = text;
    item.result.className = "result" + (kind ? " " + kind : "");
  }

  function add(file, path) {
    var name = file.name || "";
    var key = (path || name) + "|" + file.size + "|" + file.lastModified;
    if (seen[key]) return;
    seen[key] = true;
    var bar = S.el("progress", { max: "100", value: "0" });
    var result = S.el("span", { class: "result", text: S.t("js.upload.waiting") });
    var row = S.el("tr", {}, [
      S.el("td", { class: "filename", text: path || name }),
      S.el("td", { class: "num", text: S.fmtSize(file.size) }),
      S.el("td", {}, [bar]),
      S.el("td", {}, [result]),
    ]);
    var item = { file: file, path: path || name, row: row, bar: bar, result: result, state: "waiting" };
    if (SKIP.test(name)) {
      item.state = "skipped";
      setResult(item, S.t("js.upload.skipped"), "muted");
    }
    tbody.appendChild(row);
    items.push(item);
  }

  function addList(list) {
    Array.prototype.forEach.call(list, function (file) {
      add(file, file.webkitRelativePath || file.name);
    });
    refresh();
  }

  // --- drag and drop, folders included ---------------------------------------------------

  function readEntry(entry, into) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (file) {
          into.push({ file: file, path: entry.fullPath.replace(/^\//, "") });
          resolve();
        }, function () { resolve(); });
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        var children = [];
        (function more() {
          reader.readEntries(function (batch) {
            if (!batch.length) {
              Promise.all(children.map(function (c) { return readEntry(c, into); })).then(resolve);
              return;
            }
            children = children.concat(Array.prototype.slice.call(batch));
            more();
          }, function () { resolve(); });
        })();
      } else {
        resolve();
      }
    });
  }

  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      if (!busy) dropzone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (busy) return;
    var transfer = event.dataTransfer;
    var entries = [];
    if (transfer.items && transfer.items.length && transfer.items[0].webkitGetAsEntry) {
      Array.prototype.forEach.call(transfer.items, function (it) {
        var entry = it.kind === "file" && it.webkitGetAsEntry();
        if (entry) entries.push(entry);
      });
    }
    if (!entries.length) {
      addList(transfer.files);
      return;
    }
    var found = [];
    Promise.all(entries.map(function (e) { return readEntry(e, found); })).then(function () {
      found.sort(function (a, b) { return a.path < b.path ? -1 : a.path > b.path ? 1 : 0; });
      found.forEach(function (f) { add(f.file, f.path); });
      refresh();
    });
  });
  dropzone.addEventListener("keydown", function (event) {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      filesInput.click();
    }
  });
  filesInput.addEventListener("change", function () { addList(filesInput.files); filesInput.value = ""; });
  folderInput.addEventListener("change", function () { addList(folderInput.files); folderInput.value = ""; });

  clearButton.addEventListener("click", function () {
    if (busy) return;
    items = [];
    seen = {};
    tbody.textContent = "";
    links.hidden = true;
    showError("");
    refresh();
  });

  // --- sending ---------------------------------------------------------------------------

  function groups(list) {
    var out = [], current = [], bytes = 0;
    list.forEach(function (item) {
      if (current.length && (current.length >= GROUP || bytes + item.file.size > GROUP_BYTES)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += item.file.size;
    });
    if (current.length) out.push(current);
    return out;
  }

  function sendOnce(group, key) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("unit", unitField.value);
      if (dossierField.value.trim()) data.append("dossier", dossierField.value.trim());
      if (labelField.value.trim()) data.append("label", labelField.value.trim());
      group.forEach(function (item) { data.append("files", item.file, item.file.name); });
      var ends = [], sum = 0;
      group.forEach(function (item) { sum += item.file.size; ends.push(sum); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/batches");
      xhr.setRequestHeader("X-CSRF-Token", S.csrfToken());
      xhr.setRequestHeader("Idempotency-Key", key);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (event) {
        if (!event.lengthComputable) return;
        var sent = event.loaded / event.total * sum; // multipart overhead spread evenly
        group.forEach(function (item, i) {
          var start = i ? ends[i - 1] : 0;
          var size = ends[i] - start;
          var done = size ? Math.min(1, Math.max(0, (sent - start) / size)) : (sent >= start ? 1 : 0);
          item.bar.value = Math.round(done * 100);
        });
      };
      xhr.onload = function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { resolve({ status: 0, body: null }); };
      group.forEach(function (item) { setResult(item, S.t("js.upload.sending")); });
      xhr.send(data);
    });
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function send(group) {
    var key = S.randomKey();
    var attempt = 0;
    function tryOnce() {
      return sendOnce(group, key).then(function (answer) {
        var retriable = answer.status === 0 || answer.status === 409 || answer.status >= 500;
        if (retriable && attempt < RETRIES) {
          attempt += 1;
          group.forEach(function (item) { setResult(item, S.t("js.upload.retrying"), "muted"); });
          return wait(1500 * attempt).then(tryOnce);
        }
        return answer;
      });
    }
    return tryOnce();
  }

  function entryText(entry) {
    if (entry.error_code) return S.t("js.errorcode." + entry.error_code);
    if (entry.outcome === "duplicate") return S.t("js.upload.duplicate");
    if (entry.outcome === "rejected") return S.t("js.upload.rejected");
    return S.t("js.upload.received");
  }

  function showEntries(group, batch) {
    var entries = (batch && batch.entries) || [];
    var used = {};
    group.forEach(function (item, i) {
      var entry = null;
      if (entries.length === group.length) {
        entry = entries[i];
      } else {
        for (var j = 0; j < entries.length; j++) {
          if (!used[j] && entries[j].filename === item.file.name.normalize("NFC")) {
            entry = entries[j];
            used[j] = true;
            break;
          }
        }
      }
      item.bar.value = 100;
      item.state = "sent";
      var failed = entry && (entry.error_code || entry.outcome === "rejected");
      setResult(item, entry ? entryText(entry) : S.t("js.upload.received"), failed ? "error-text" : "ok");
      if (entry && entry.record_id && !failed) {
        item.result.appendChild(document.createTextNode(" "));
        item.result.appendChild(S.el("a", { href: "/records/" + entry.record_id, text: S.t("common.open") }));
      }
    });
  }

  function finish(batchIds) {
    busy = false;
    window.removeEventListener("beforeunload", warn);
    [filesInput, folderInput, unitField, dossierField, labelField].forEach(function (n) { n.disabled = false; });
    refresh();
    if (!batchIds.length) return;
    links.textContent = "";
    if (batchIds.length === 1) {
      links.appendChild(S.el("p", {}, [S.t("js.upload.done_one") + " ",
        S.el("a", { href: "/batches/" + batchIds[0], text: S.t("js.upload.batch_link", { n: 1 }) })]));
      links.hidden = false;
      setTimeout(function () { location.assign("/batches/" + batchIds[0]); }, 600);
      return;
    }
    var list = S.el("ol");
    batchIds.forEach(function (id, i) {
      list.appendChild(S.el("li", {}, [S.el("a", { href: "/batches/" + id, text: S.t("js.upload.batch_link", { n: i + 1 }) })]));
    });
    links.appendChild(S.el("p", { text: S.t("js.upload.done_many", { n: batchIds.length }) }));
    links.appendChild(list);
    links.hidden = false;
  }

  function warn(event) {
    event.preventDefault();
    event.returnValue = S.t("js.upload.busy");
    return event.returnValue;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    showError("");
    if (!unitField.value) {
      showError(S.t("js.upload.no_unit"));
      return;
    }
    var todo = items.filter(function (i) { return i.state === "waiting"; });
    if (!todo.length) {
      showError(S.t("js.upload.none"));
      return;
    }
    busy = true;
    window.addEventListener("beforeunload", warn);
    [filesInput, folderInput, unitField, dossierField, labelField].forEach(function (n) { n.disabled = true; });
    refresh();
    var batchIds = [];
    var chain = Promise.resolve();
    groups(todo).forEach(function (group) {
      chain = chain.then(function () {
        return send(group).then(function (answer) {
          if (answer.status === 401) {
            location.assign(S.loginUrl());
            return;
          }
          if (answer.status === 200 || answer.status === 201 || answer.status === 202) {
            if (answer.body && answer.body.id && batchIds.indexOf(answer.body.id) < 0) {
              batchIds.push(answer.body.id);
            }
            showEntries(group, answer.body);
            return;
          }
          var reason = S.problem(answer.status, answer.body);
          group.forEach(function (item) {
            item.state = "waiting"; // sent again with the next start
            item.bar.value = 0;
            setResult(item, S.t("js.upload.failed", { reason: reason }), "error-text");
          });
          showError(reason);
        });
      });
    });
    chain.then(function () { finish(batchIds); });
  });

  refresh();
})();
