/**
 * The status page served at `GET /`: one static HTML document with its
 * stylesheet and a vanilla script (no build step, no dependency), kept as a
 * module so that the compiled library and the bundled CLI both carry it.
 *
 * The API key is asked for once and kept in `sessionStorage` (this tab's
 * session only). The live feed is read with `fetch` and a stream reader
 * rather than `EventSource`: `EventSource` cannot send an `Authorization`
 * header, and putting the key (or a token standing for it) in the URL would
 * leave it in access logs and browser history. The reader parses the SSE
 * text itself and reconnects with `Last-Event-ID`, as `EventSource` would.
 *
 * Every value from the server is written with `textContent`; only http(s)
 * results become links.
 *
 * @internal
 */

/** @internal */
export const statusPageHtml: string = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Medusa · tasks</title>
<style>
  :root { color-scheme: light dark; --muted: #6b7280; --line: #d1d5db; --ok: #15803d; --bad: #b91c1c; --run: #1d4ed8; --wait: #a16207; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 1.25rem; max-width: 72rem; margin-inline: auto; }
  header { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; margin-bottom: 1rem; }
  h1 { font-size: 1.25rem; margin: 0; }
  .muted { color: var(--muted); }
  form#key-form { display: flex; gap: .5rem; align-items: center; margin: 2rem 0; }
  input[type=password] { font: inherit; padding: .4rem .6rem; min-width: 22rem; }
  button { font: inherit; padding: .3rem .7rem; cursor: pointer; }
  #notice { color: var(--bad); min-height: 1.2em; }
  .task { border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; margin-bottom: .75rem; }
  .task-head { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
  .task-id { font-family: ui-monospace, monospace; font-size: 12px; }
  .state { font-weight: 600; text-transform: uppercase; font-size: 11px; letter-spacing: .04em; padding: .1rem .45rem; border-radius: 4px; border: 1px solid currentColor; }
  .state[data-state=completed] { color: var(--ok); }
  .state[data-state=failed] { color: var(--bad); }
  .state[data-state=in_progress] { color: var(--run); }
  .state[data-state=pending], .state[data-state=cancelled] { color: var(--muted); }
  .chips { display: flex; gap: .35rem; flex-wrap: wrap; margin: .5rem 0; }
  .chip { font-size: 12px; padding: .1rem .5rem; border-radius: 999px; border: 1px solid var(--line); }
  .chip[data-chip-state=done] { border-color: var(--ok); color: var(--ok); }
  .chip[data-chip-state=failed] { border-color: var(--bad); color: var(--bad); }
  .chip[data-chip-state=uploading], .chip[data-chip-state=posting] { border-color: var(--run); color: var(--run); }
  .chip[data-chip-state=waiting] { border-color: var(--wait); color: var(--wait); }
  .chip[data-chip-state=skipped], .chip[data-chip-state=cancelled] { color: var(--muted); text-decoration: line-through; }
  .bar { display: grid; grid-template-columns: 6rem 1fr 16rem; gap: .5rem; align-items: center; margin: .25rem 0; font-size: 12px; }
  progress { width: 100%; height: .7rem; }
  .message { margin: .25rem 0; }
  .error { color: var(--bad); white-space: pre-wrap; margin: .25rem 0; }
  .results { display: flex; gap: .75rem; flex-wrap: wrap; margin: .25rem 0; font-size: 13px; }
  .actions { margin-left: auto; display: flex; gap: .4rem; }
  .empty { color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Medusa tasks</h1>
  <span id="conn" class="muted"></span>
  <span id="scope" class="muted"></span>
  <button id="forget" hidden>Forget key</button>
</header>
<p id="notice" role="alert"></p>
<form id="key-form" hidden>
  <label for="key">API key</label>
  <input id="key" type="password" autocomplete="off" required placeholder="kept in this tab's session only">
  <button type="submit">Open</button>
</form>
<main id="tasks" hidden><p class="empty" id="empty">No tasks yet.</p></main>
<script>
(function () {
  "use strict";
  var STORAGE = "medusa.apiKey";
  var NAMES = { youtube: "YouTube", vimeo: "Vimeo", facebook: "Facebook", x: "X", linkedin: "LinkedIn", threads: "Threads", mastodon: "Mastodon" };
  var HOSTS = { youtube: true, vimeo: true };
  var rows = new Map();
  var canWrite = true;
  var lastEventId = null;
  var stream = null;
  var $ = function (id) { return document.getElementById(id); };

  function key() { return sessionStorage.getItem(STORAGE); }
  function notice(text) { $("notice").textContent = text || ""; }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function api(path, init) {
    init = init || {};
    var headers = Object.assign({ Authorization: "Bearer " + key() }, init.headers || {});
    return fetch(path, Object.assign({}, init, { headers: headers, cache: "no-store" })).then(function (res) {
      if (res.status === 401) { signOut("The API key was refused (401). Enter a valid key."); throw new Error("401"); }
      return res;
    });
  }
  function errorText(res) {
    return res.json().then(function (b) { return (b && b.error && b.error.message) || ("HTTP " + res.status); },
      function () { return "HTTP " + res.status; });
  }
  function bytes(n) {
    if (!(n >= 0)) return "?";
    var units = ["B", "kB", "MB", "GB", "TB"], i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
  }
  function isUnfinished(state) { return state === "pending" || state === "in_progress"; }

  // --- per platform state -----------------------------------------------------
  function chipState(status, p) {
    var results = status.results || {};
    if (results[p + "_url"] || results[p + "_post_id"]) return "done";
    if ((status.failures || []).some(function (f) { return f.platform === p; }) || status.failed_platform === p) return "failed";
    if ((status.skipped || []).indexOf(p) >= 0) return "skipped";
    if (status.status === "cancelled") return "cancelled";
    if ((status.waits || []).some(function (w) { return w.platform === p; })) return "waiting";
    if (HOSTS[p] && status.progress && status.progress[p]) return "uploading";
    var m = /^Posting to (.*?)(\.\.\.)?$/.exec(status.message || "");
    if (m && m[1].split(", ").indexOf(NAMES[p]) >= 0) return "posting";
    return status.status === "failed" ? "skipped" : "pending";
  }
  function platformsOf(status) {
    if (status.platforms && status.platforms.length) return status.platforms;
    var seen = {};
    Object.keys(status.results || {}).forEach(function (k) { seen[k.split("_")[0]] = true; });
    Object.keys(status.progress || {}).forEach(function (k) { seen[k] = true; });
    return Object.keys(seen);
  }

  // --- rendering --------------------------------------------------------------
  function row(id) {
    var r = rows.get(id);
    if (r) return r;
    var node = el("section", { "class": "task", "data-task-id": id });
    r = { id: id, node: node, status: null, rates: {}, attempts: null };
    rows.set(id, r);
    var list = $("tasks");
    list.insertBefore(node, list.querySelector(".task"));
    $("empty").hidden = true;
    return r;
  }

  function render(r) {
    var s = r.status, node = r.node;
    node.setAttribute("data-state", s.status);
    node.textContent = "";
    var head = el("div", { "class": "task-head" });
    head.appendChild(el("span", { "class": "state", "data-state": s.status }, s.status.replace("_", " ")));
    head.appendChild(el("span", { "class": "task-id" }, s.task_id));
    head.appendChild(el("span", { "class": "muted" }, new Date(s.created_at).toLocaleString()));
    if (r.attempts !== null) head.appendChild(el("span", { "class": "attempts muted" }, "attempts: " + r.attempts));
    var actions = el("span", { "class": "actions" });
    if (canWrite && isUnfinished(s.status)) {
      actions.appendChild(action(r, "cancel", "Cancel"));
      actions.appendChild(action(r, "resume", "Resume"));
    }
    head.appendChild(actions);
    node.appendChild(head);

    var chips = el("div", { "class": "chips" });
    platformsOf(s).forEach(function (p) {
      var state = chipState(s, p);
      chips.appendChild(el("span", { "class": "chip", "data-platform": p, "data-chip-state": state }, (NAMES[p] || p) + ": " + state));
    });
    node.appendChild(chips);

    Object.keys(s.progress || {}).forEach(function (host) {
      var pr = s.progress[host], rate = r.rates[host];
      var bar = el("div", { "class": "bar", "data-host": host, "data-bytes-sent": String(pr.bytes_sent) });
      bar.appendChild(el("span", null, NAMES[host] || host));
      var meter = el("progress", { max: String(pr.total_bytes || 1), value: String(pr.bytes_sent) });
      bar.appendChild(meter);
      bar.appendChild(el("span", { "class": "bytes" }, bytes(pr.bytes_sent) + " / " + bytes(pr.total_bytes) + " (" + pr.percent + "%)" +
        (rate && rate.perSecond > 0 ? " · " + bytes(rate.perSecond) + "/s" : "")));
      node.appendChild(bar);
    });

    if (s.message && s.status !== "failed") node.appendChild(el("p", { "class": "message muted" }, s.message));
    if (s.error) node.appendChild(el("p", { "class": "error" }, (s.error_code ? "[" + s.error_code + "] " : "") + s.error));

    var results = s.results || {};
    var keys = Object.keys(results);
    if (keys.length) {
      var box = el("div", { "class": "results" });
      keys.forEach(function (k) {
        var v = results[k];
        if (/_url$/.test(k) && /^https?:\/\//.test(v)) {
          var a = el("a", { "class": "result", href: v, target: "_blank", rel: "noopener noreferrer", "data-result": k }, k.replace(/_/g, " "));
          box.appendChild(a);
        } else {
          box.appendChild(el("span", { "class": "result-value", "data-result": k }, k.replace(/_/g, " ") + ": " + v));
        }
      });
      node.appendChild(box);
    }
  }

  function action(r, what, label) {
    var b = el("button", { type: "button", "data-action": what }, label);
    b.addEventListener("click", function () {
      b.disabled = true;
      api("/v1/tasks/" + encodeURIComponent(r.id) + "/" + what, { method: "POST" }).then(function (res) {
        if (res.status === 403) { setWrite(false); return; }
        if (!res.ok) return errorText(res).then(function (t) { notice(label + " " + r.id + ": " + t); b.disabled = false; });
        return res.json().then(function (s) { update(s, false); });
      }).catch(function () { b.disabled = false; });
    });
    return b;
  }

  function update(status, isProgress) {
    var r = row(status.task_id);
    if (r.status && !isProgress && r.status.updated_at > status.updated_at) return;
    if (isProgress) {
      var now = performance.now();
      Object.keys(status.progress || {}).forEach(function (host) {
        var sent = status.progress[host].bytes_sent, prev = r.rates[host];
        if (prev && sent > prev.bytes && now > prev.at) {
          var inst = (sent - prev.bytes) * 1000 / (now - prev.at);
          r.rates[host] = { bytes: sent, at: now, perSecond: prev.perSecond > 0 ? prev.perSecond * 0.7 + inst * 0.3 : inst };
        } else if (!prev) {
          r.rates[host] = { bytes: sent, at: now, perSecond: 0 };
        }
      });
    }
    var changed = !r.status || r.status.status !== status.status;
    r.status = status;
    render(r);
    if (changed || !isProgress) attempts(r);
  }

  // Attempts: how many times the task was started (its history's in_progress entries).
  function attempts(r) {
    api("/v1/tasks/" + encodeURIComponent(r.id)).then(function (res) {
      if (!res.ok) return;
      return res.json().then(function (s) {
        if (!s.history) return;
        r.attempts = s.history.filter(function (h) { return h.state === "in_progress"; }).length;
        if (!r.status || s.updated_at >= r.status.updated_at) r.status = s;
        render(r);
      });
    }).catch(function () {});
  }

  function setWrite(allowed) {
    canWrite = allowed;
    $("scope").textContent = allowed ? "" : "read-only key: cancel and resume are hidden";
    rows.forEach(render);
  }

  // --- the live feed (fetch + stream reader; see the module comment) ----------
  function follow() {
    if (stream) stream.abort();
    var controller = new AbortController();
    stream = controller;
    var headers = { Accept: "text/event-stream" };
    if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
    $("conn").textContent = "connecting…";
    api("/v1/events", { headers: headers, signal: controller.signal }).then(function (res) {
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      $("conn").textContent = "live";
      var reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("closed");
          buffer += chunk.value.replace(/\r\n?/g, "\n");
          var end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            dispatch(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      if (controller.signal.aborted || String(e && e.message) === "401") return;
      $("conn").textContent = "reconnecting…";
      setTimeout(function () { if (stream === controller) follow(); }, 1000);
    });
  }

  function dispatch(block) {
    var event = "message", data = [], id = null;
    block.split("\n").forEach(function (line) {
      if (line === "" || line.charAt(0) === ":") return;
      var i = line.indexOf(":"), field = i < 0 ? line : line.slice(0, i), value = i < 0 ? "" : line.slice(i + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    });
    if (id !== null) lastEventId = id;
    if (!data.length) return;
    try { update(JSON.parse(data.join("\n")), event === "progress"); } catch (e) { /* not a status */ }
  }

  // --- start ------------------------------------------------------------------
  function start() {
    notice("");
    $("key-form").hidden = true;
    $("tasks").hidden = false;
    $("forget").hidden = false;
    // A read key is refused (403) before the route is looked up; a write key gets 404 for this id.
    api("/v1/tasks/medusa_task_00000000-0000-4000-8000-000000000000/cancel", { method: "POST" }).then(function (res) {
      setWrite(res.status !== 403);
    }).catch(function () {});
    follow();
    api("/v1/tasks?limit=100").then(function (res) {
      if (!res.ok) return errorText(res).then(notice);
      return res.json().then(function (body) {
        (body.tasks || []).slice().reverse().forEach(function (s) { update(s, false); });
      });
    }).catch(function () {});
  }

  function signOut(message) {
    sessionStorage.removeItem(STORAGE);
    if (stream) { stream.abort(); stream = null; }
    rows.forEach(function (r) { r.node.remove(); });
    rows.clear();
    lastEventId = null;
    $("tasks").hidden = true;
    $("empty").hidden = false;
    $("forget").hidden = true;
    $("key-form").hidden = false;
    $("conn").textContent = "";
    $("scope").textContent = "";
    notice(message);
  }

  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = $("key").value.trim();
    if (!value) return;
    sessionStorage.setItem(STORAGE, value);
    $("key").value = "";
    start();
  });
  $("forget").addEventListener("click", function () { signOut(""); });
  if (key()) start(); else signOut("");
})();
</script>
</body>
</html>
`
