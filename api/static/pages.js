/* Page images with the words OCR recognised laid over them (GET …/pages/{n}/words: boxes as
   fractions of the page). Words matching the given terms are highlighted; the others show
   lightly while the pointer is over the page. */
(function () {
  "use strict";
  var S = window.SoHoa;

  function clean(text) {
    return S.fold(text).replace(/[^0-9a-z]+/g, "");
  }

  /** Search terms from free text: folded, punctuation dropped, at least two characters. */
  function terms(text) {
    return S.fold(text).split(/[^0-9a-z]+/).filter(function (w) { return w.length >= 2; });
  }

  function matches(word, wanted) {
    var w = clean(word);
    if (!w) return false;
    return wanted.some(function (term) {
      return w === term || (term.length >= 3 && w.indexOf(term) === 0);
    });
  }

  function Page(figure) {
    this.figure = figure;
    this.words = null;
    this.layer = S.el("div", { class: "words", "aria-hidden": "true" });
    (figure.querySelector(".frame") || figure).appendChild(this.layer);
  }

  Page.prototype.load = function () {
    var self = this;
    if (this.loading) return this.loading;
    var url = "/api/v1/records/" + encodeURIComponent(this.figure.getAttribute("data-record")) +
      "/pages/" + encodeURIComponent(this.figure.getAttribute("data-page")) + "/words";
    this.loading = S.api("GET", url).then(function (result) {
      self.words = result.ok && Array.isArray(result.data) ? result.data : [];
      self.draw();
      return self;
    });
    return this.loading;
  };

  Page.prototype.draw = function () {
    var layer = this.layer;
    layer.textContent = "";
    (this.words || []).forEach(function (word) {
      var b = word.bbox;
      if (!b || b.length !== 4) return;
      var box = S.el("span", { class: "word", title: word.text });
      box.style.left = (b[0] * 100) + "%";
      box.style.top = (b[1] * 100) + "%";
      box.style.width = Math.max(0, (b[2] - b[0]) * 100) + "%";
      box.style.height = Math.max(0, (b[3] - b[1]) * 100) + "%";
      box.setAttribute("data-text", word.text);
      layer.appendChild(box);
    });
  };

  /** Highlight the words matching `wanted` (folded terms); returns how many matched. */
  Page.prototype.highlight = function (wanted) {
    var count = 0;
    Array.prototype.forEach.call(this.layer.children, function (box) {
      var hit = wanted.length > 0 && matches(box.getAttribute("data-text"), wanted);
      box.classList.toggle("hit", hit);
      if (hit) count += 1;
    });
    var note = this.figure.querySelector(".matches");
    if (note) note.textContent = wanted.length && count ? S.t("js.record.matches", { n: count }) : "";
    this.figure.classList.toggle("has-hits", count > 0);
    return count;
  };

  /** Every page figure under `root`: load their words, highlight `text`. */
  function attach(root, text) {
    var pages = Array.prototype.map.call(root.querySelectorAll("figure.page"), function (f) {
      return new Page(f);
    });
    var wanted = terms(text || "");
    pages.forEach(function (page) {
      page.load().then(function () { page.highlight(wanted); });
    });
    return {
      pages: pages,
      highlight: function (newText) {
        wanted = terms(newText || "");
        var first = null;
        pages.forEach(function (page) {
          page.load().then(function () {
            if (page.highlight(wanted) && !first) first = page;
          });
        });
      },
    };
  }

  window.SoHoaPages = { attach: attach, terms: terms };
})();
