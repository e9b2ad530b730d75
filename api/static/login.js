/* The login form: JSON to /api/v1/auth/login, then on to the page asked for. */
(function () {
  "use strict";
  var S = window.SoHoa;
  var form = document.getElementById("login-form");
  if (!form) return;
  var error = document.getElementById("login-error");
  var button = form.querySelector("button[type=submit]");

  /** Only a path on this site: never "//host" or "http://…". */
  function localPath(value) {
    if (!value || value.charAt(0) !== "/" || value.charAt(1) === "/" || value.indexOf("\\") >= 0) {
      return "/";
    }
    return value;
  }

  function show(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var username = form.username.value.trim();
    var password = form.password.value;
    if (!username || !password) {
      show(S.t("js.login.missing"));
      return;
    }
    show("");
    button.disabled = true;
    button.textContent = S.t("js.login.busy");
    S.api("POST", "/api/v1/auth/login", {
      json: { username: username, password: password },
      noRedirect: true,
    }).then(function (result) {
      if (result.ok) {
        location.assign(localPath(form.getAttribute("data-next")));
        return;
      }
      button.disabled = false;
      button.textContent = form.getAttribute("data-label") || button.textContent;
      if (result.status === 401) show(S.t("js.login.wrong"));
      else if (result.status === 422) show(S.t("js.login.missing"));
      else if (result.status === 429) show(S.t("js.login.throttled"));
      else show(S.problem(result.status, result.data));
      form.password.select();
    });
  });
  form.setAttribute("data-label", button.textContent);
})();
