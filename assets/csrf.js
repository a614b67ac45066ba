/* CSRF header for the page's own requests.

   The server puts this session's token in <meta name="csrf-token"> and refuses any
   state-changing request that rides on the session cookie without it (X-CSRF-Token).
   Dash's renderer and assets/upload.js call fetch(); this wraps window.fetch (and
   XMLHttpRequest, for anything older) to add the header to same-origin requests other than
   GET/HEAD/OPTIONS. A Dash callback answered 401 means the session ended (idle timeout,
   sign-out elsewhere): the page goes to the sign-in page, which says why. */
(function () {
  "use strict";

  var SAFE = {GET: true, HEAD: true, OPTIONS: true, TRACE: true};
  var HEADER = "X-CSRF-Token";

  function token() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function sameOrigin(url) {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch (err) {
      return false;
    }
  }

  var leaving = false;

  function toSignIn() {
    if (leaving) { return; }  // several callbacks fail at once: go only once
    leaving = true;
    var here = window.location.pathname + window.location.search;
    window.location.assign("/login?next=" + encodeURIComponent(here));
  }

  var originalFetch = window.fetch;
  if (originalFetch && !originalFetch.healthdashCsrf) {
    var wrapped = function (input, init) {
      var request = (typeof Request !== "undefined" && input instanceof Request) ? input : null;
      var method = String((init && init.method) || (request && request.method) || "GET")
        .toUpperCase();
      var url = request ? request.url : String(input);
      var value = token();
      if (value && !SAFE[method] && sameOrigin(url)) {
        init = Object.assign({}, init);
        var headers = new Headers(init.headers || (request ? request.headers : undefined));
        headers.set(HEADER, value);
        init.headers = headers;
      }
      return originalFetch.call(this, input, init).then(function (response) {
        if (response.status === 401 && sameOrigin(url) &&
            new URL(url, window.location.href).pathname.indexOf("/_dash-") === 0) {
          toSignIn();
        }
        return response;
      });
    };
    wrapped.healthdashCsrf = true;
    window.fetch = wrapped;
  }

  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.healthdashMethod = String(method || "GET").toUpperCase();
    this.healthdashUrl = String(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var value = token();
    if (value && !SAFE[this.healthdashMethod] && sameOrigin(this.healthdashUrl)) {
      this.setRequestHeader(HEADER, value);
    }
    return send.apply(this, arguments);
  };
})();
