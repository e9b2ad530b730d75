/* Search: GET /api/v1/records?q=… (diacritics ignored), results with highlighted snippets
   (only <mark> is kept from a snippet), "more" follows next_cursor. */
(function () {
  "use strict";
  var S = window.SoHoa;
  var form = document.getElementById("search-form");
  var list = document.getElementById("results");
  if (!form || !list) return;
  var countNode = document.getElementById("search-count");
  var errorNode = document.getElementById("search-error");
  var moreButton = document.getElementById("more");
  var PAGE = 20;
  var cursor = null;
  var shown = 0;

  function params() {
    var p = new URLSearchParams();
    ["q", "unit", "status"].forEach(function (name) {
      var value = (form.elements[name].value || "").trim();
      if (value) p.set(name, value);
    });
    if (!p.get("q")) p.set("order", "desc"); // no words: the newest changes first
    p.set("limit", String(PAGE));
    return p;
  }

  function title(item) {
    var d = item.document || {};
    var source = item.source || {};
    var head = [d.type_label, d.number].filter(Boolean).join(" ");
    return head || source.filename || item.filename || item.id;
  }

  function render(item, q) {
    var d = item.document || {};
    var href = "/records/" + encodeURIComponent(item.id) + (q ? "?q=" + encodeURIComponent(q) : "");
    var meta = [];
    if (d.issued_on) meta.push(S.fmtDate(d.issued_on));
    if (d.issuer) meta.push(d.issuer);
    var source = item.source || {};
    if (source.filename || item.filename) meta.push(source.filename || item.filename);
    var li = S.el("li", { class: "result", "data-record": item.id }, [
      S.el("h3", {}, [S.el("a", { href: href, text: title(item) })]),
      item.status ? S.el("span", { class: "status st-" + item.status, text: S.t("status." + item.status) }) : null,
      S.el("p", { class: "subject", text: d.subject || S.t("js.search.untitled") }),
      S.el("p", { class: "muted small", text: meta.join(" · ") }),
    ]);
    (item.snippets || []).slice(0, 3).forEach(function (snippet) {
      var p = S.el("p", { class: "snippet" });
      if (snippet.page) p.appendChild(S.el("span", { class: "muted small", text: S.t("js.search.page", { n: snippet.page }) + ": " }));
      p.appendChild(S.snippetNodes(snippet.text));
      li.appendChild(p);
    });
    return li;
  }

  function fetchPage(reset) {
    var p = params();
    if (!reset && cursor) p.set("cursor", cursor);
    var q = p.get("q") || "";
    errorNode.hidden = true;
    moreButton.disabled = true;
    if (reset) {
      list.textContent = "";
      shown = 0;
      countNode.textContent = S.t("js.search.loading");
    }
    S.api("GET", "/api/v1/records?" + p.toString()).then(function (result) {
      moreButton.disabled = false;
      if (!result.ok) {
        countNode.textContent = "";
        errorNode.textContent = S.problem(result.status, result.data);
        errorNode.hidden = false;
        moreButton.hidden = true;
        return;
      }
      var data = result.data || {};
      var items = Array.isArray(data.items) ? data.items : Array.isArray(data) ? data : [];
      items.forEach(function (item) { list.appendChild(render(item, q)); });
      shown += items.length;
      cursor = data.next_cursor || null;
      moreButton.hidden = !cursor;
      countNode.textContent = shown ? S.t("js.search.shown", { n: shown }) : S.t("js.search.none");
    });
  }

  moreButton.addEventListener("click", function () { fetchPage(false); });
  fetchPage(true);
})();
