/* sohoa — dossiers: load a mục lục (XLSX/CSV) and show each refused row; move a document to
   another dossier or ordinal. Both go through the API with the page's CSRF token. */
(function () {
  "use strict";
  var S = window.SoHoa;

  function show(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }

  function sendCatalog(form) {
    var fileField = document.getElementById("catalog-file");
    var unitField = document.getElementById("catalog-unit");
    var error = document.getElementById("catalog-error");
    var button = document.getElementById("catalog-send");
    show(error, "");
    if (!fileField.files.length) {
      show(error, S.t("js.dossiers.no_file"));
      return;
    }
    var data = new FormData();
    data.append("file", fileField.files[0], fileField.files[0].name);
    if (unitField && unitField.value) data.append("unit", unitField.value);
    button.disabled = true;
    fetch("/api/v1/dossiers/catalog", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": S.csrfToken(), Accept: "application/json" },
      body: data,
    })
      .then(
        function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            return { status: response.status, ok: response.ok, data: body };
          });
        },
        function () { return { status: 0, ok: false, data: null }; }
      )
      .then(function (answer) {
        button.disabled = false;
        if (answer.status === 401) {
          location.assign(S.loginUrl());
          return;
        }
        if (!answer.ok) {
          show(error, S.problem(answer.status, answer.data));
          return;
        }
        showLoad(answer.data);
      });
  }

  function showLoad(body) {
    var result = document.getElementById("catalog-result");
    var summary = document.getElementById("catalog-summary");
    var wrap = document.getElementById("catalog-problems-wrap");
    var rows = document.querySelector("#catalog-problems tbody");
    var loaded = body.created.length + body.updated.length + body.unchanged.length;
    summary.textContent = S.t("js.dossiers.loaded", {
      loaded: loaded,
      created: body.created.length,
      updated: body.updated.length,
      unchanged: body.unchanged.length,
      problems: body.problems.length,
    });
    summary.setAttribute("data-loaded", String(loaded));
    summary.setAttribute("data-problems", String(body.problems.length));
    rows.textContent = "";
    body.problems.forEach(function (p) {
      rows.appendChild(S.el("tr", { "data-line": p.line }, [
        S.el("td", { class: "num", text: String(p.line) }),
        S.el("td", { text: p.file_code || "" }),
        S.el("td", { text: p.reason }),
      ]));
    });
    wrap.hidden = !body.problems.length;
    result.hidden = false;
    if (loaded) S.toast(S.t("js.dossiers.reload_hint"));
  }

  function sendPlacement() {
    var record = document.getElementById("move-record").value;
    var dossier = document.getElementById("move-dossier").value.trim();
    var ordinalText = document.getElementById("move-ordinal").value.trim();
    var error = document.getElementById("move-error");
    var button = document.getElementById("move-send");
    show(error, "");
    var body = { dossier: dossier || null };
    if (ordinalText) {
      var ordinal = Number(ordinalText);
      if (!/^\d+$/.test(ordinalText) || ordinal < 1) {
        show(error, S.t("js.dossiers.bad_ordinal"));
        return;
      }
      body.ordinal = ordinal;
    }
    button.disabled = true;
    S.api("PUT", "/api/v1/records/" + encodeURIComponent(record) + "/placement", { json: body })
      .then(function (answer) {
        button.disabled = false;
        if (!answer.ok) {
          show(error, S.problem(answer.status, answer.data));
          return;
        }
        S.toast(S.t("js.dossiers.moved"));
        location.reload();
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var catalog = document.getElementById("catalog-form");
    if (catalog) {
      catalog.addEventListener("submit", function (event) {
        event.preventDefault();
        sendCatalog(catalog);
      });
    }
    var placement = document.getElementById("placement-form");
    if (placement) {
      placement.addEventListener("submit", function (event) {
        event.preventDefault();
        sendPlacement();
      });
    }
  });
})();
