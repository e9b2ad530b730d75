/* sohoa — what every page shares: messages, the CSRF header, API calls, dates dd/mm/yyyy.
   Plain JavaScript, no build step, nothing loaded from the internet. */
(function () {
  "use strict";

  var dataNode = document.getElementById("i18n");
  var messages = {};
  try {
    messages = JSON.parse(dataNode ? dataNode.textContent : "{}");
  } catch (e) {
    messages = {};
  }

  /** The message `key` with {placeholders} filled; the key itself when unknown. */
  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(params[name]));
      });
    }
    return text;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function lang() {
    return document.documentElement.getAttribute("lang") === "en" ? "en" : "vi";
  }

  function loginUrl() {
    return "/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  /** An error people can read, from a failed fetch or an error answer. */
  function problem(status, body) {
    if (status === 0) return t("js.err.network");
    if (status === 401) return t("js.err.session");
    if (status === 403) return t("js.err.forbidden");
    if (status === 413) return t("js.err.too_large");
    if (body && typeof body.detail === "string") return body.detail;
    if (body && Array.isArray(body.detail) && body.detail.length && body.detail[0].msg) {
      return body.detail[0].msg;
    }
    return t("js.err.server", { status: status });
  }

  /**
   * fetch() on this site: same-origin cookie, the CSRF header on every unsafe method, JSON
   * in and out. Resolves to {ok, status, data, headers}; never rejects (network errors come
   * back as status 0). A 401 sends the person to the login page.
   */
  function api(method, url, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    var init = { method: method, credentials: "same-origin", headers: headers };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    }
    return fetch(url, init).then(
      function (response) {
        var type = response.headers.get("content-type") || "";
        var read = type.indexOf("json") >= 0 ? response.json().catch(function () { return null; })
          : Promise.resolve(null);
        return read.then(function (data) {
          if (response.status === 401 && !options.noRedirect) location.assign(loginUrl());
          return { ok: response.ok, status: response.status, data: data, headers: response.headers };
        });
      },
      function () {
        return { ok: false, status: 0, data: null, headers: new Headers() };
      }
    );
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /** dd/mm/yyyy of an ISO date or datetime (a datetime in Vietnam time, UTC+7). */
  function fmtDate(value) {
    if (!value) return "";
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (m) return m[3] + "/" + m[2] + "/" + m[1];
    var d = new Date(value);
    if (isNaN(d.getTime())) return String(value);
    var vn = new Date(d.getTime() + 7 * 3600 * 1000);
    return pad(vn.getUTCDate()) + "/" + pad(vn.getUTCMonth() + 1) + "/" + vn.getUTCFullYear();
  }

  /** dd/mm/yyyy HH:MM in Vietnam time. */
  function fmtDateTime(value) {
    if (!value) return "";
    var d = new Date(value);
    if (isNaN(d.getTime())) return String(value);
    var vn = new Date(d.getTime() + 7 * 3600 * 1000);
    return fmtDate(value) + " " + pad(vn.getUTCHours()) + ":" + pad(vn.getUTCMinutes());
  }

  /** An ISO date from dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy); null if invalid. */
  function parseDate(text) {
    var m = /^\s*(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})\s*$/.exec(text || "");
    if (!m) return null;
    var day = +m[1], month = +m[2], year = +m[3];
    var d = new Date(Date.UTC(year, month - 1, day));
    if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
      return null;
    }
    return year + "-" + pad(month) + "-" + pad(day);
  }

  function fmtNumber(value, digits) {
    if (value === null || value === undefined) return "";
    return Number(value).toLocaleString(lang() === "en" ? "en-US" : "vi-VN", {
      minimumFractionDigits: digits || 0,
      maximumFractionDigits: digits || 0,
    });
  }

  function fmtSize(bytes) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return fmtNumber(value, unit ? 1 : 0) + " " + units[unit];
  }

  /** Lower case without Vietnamese diacritics (đ → d): how search compares words. */
  function fold(text) {
    return String(text || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .toLowerCase();
  }

  /** A new element: el("a", {href: "/x", class: "y"}, ["text", child]). */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  var toastTimer = null;
  /** A short message at the bottom of the screen. */
  function toast(text, kind) {
    var node = document.getElementById("toast");
    if (!node) return;
    node.textContent = text;
    node.className = "toast" + (kind ? " " + kind : "");
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      node.hidden = true;
    }, 4000);
  }

  /** A random key (crypto.randomUUID needs a secure context; office LANs are often http). */
  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  /** Keep only <mark> from a search snippet; everything else becomes plain text. */
  function snippetNodes(html) {
    var doc = new DOMParser().parseFromString("<body>" + String(html || "") + "</body>", "text/html");
    var out = document.createDocumentFragment();
    (function walk(node, into) {
      node.childNodes.forEach(function (child) {
        if (child.nodeType === 3) {
          into.appendChild(document.createTextNode(child.textContent));
        } else if (child.nodeType === 1) {
          if (child.tagName === "MARK") {
            var mark = document.createElement("mark");
            mark.textContent = child.textContent;
            into.appendChild(mark);
          } else if (["SCRIPT", "STYLE", "TEMPLATE"].indexOf(child.tagName) < 0) {
            walk(child, into);
          }
        }
      });
    })(doc.body, out);
    return out;
  }

  function logout() {
    api("POST", "/api/v1/auth/logout", { noRedirect: true }).then(function () {
      location.assign("/login");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("logout");
    if (button) button.addEventListener("click", logout);
  });

  window.SoHoa = {
    t: t,
    api: api,
    problem: problem,
    csrfToken: csrfToken,
    lang: lang,
    loginUrl: loginUrl,
    fmtDate: fmtDate,
    fmtDateTime: fmtDateTime,
    parseDate: parseDate,
    fmtNumber: fmtNumber,
    fmtSize: fmtSize,
    fold: fold,
    el: el,
    toast: toast,
    randomKey: randomKey,
    snippetNodes: snippetNodes,
  };
})();
