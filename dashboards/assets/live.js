// ivmon live push client: one WebSocket per screen, frames applied to the tiles the
// server rendered; a lost link is shown at once and the socket reconnects by itself.
(function () {
  "use strict";
  var ws = null;
  var retry = 0;
  var lastFrame = null;     // the newest state of every room, re-applied to new pages
  var lastFrameAt = 0;
  var subscribed = null;
  var userZoomed = false;
  var state = { frames: 0, connected: false, seq: 0 };
  window.ivmonLive = state;

  function banner(kind, text) {
    var el = document.getElementById("link-banner");
    if (!el) { return; }
    el.setAttribute("data-state", kind);
    el.textContent = text;
    document.body.setAttribute("data-link", kind);
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    try {
      ws = new WebSocket(proto + location.host + "/ws/live");
    } catch (e) {
      schedule();
      return;
    }
    ws.onopen = function () {
      retry = 0;
      state.connected = true;
      subscribed = null;
      banner("ok", "");
      syncPage();
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      apply(frame);
    };
    ws.onclose = function (event) {
      state.connected = false;
      if (event.code === 4401) { signedOut(); return; }
      banner("lost", "Connection to the ivmon server lost: the values on this screen are " +
        "NOT live. Reconnecting…");
      // A refused handshake looks like a lost server: ask the API which it is.
      fetch("/api/rooms", { credentials: "same-origin" }).then(function (r) {
        if (r.status === 401) { signedOut(); } else { schedule(); }
      }, function () { schedule(); });
    };
    ws.onerror = function () { /* onclose follows and reconnects */ };
  }

  function signedOut() {
    banner("lost", "You are signed out: the values on this screen are NOT live. " +
      "Taking you to the sign-in page…");
    setTimeout(function () {
      location.assign("/login?next=" + encodeURIComponent(location.pathname));
    }, 2000);
  }

  function schedule() {
    // Back off to at most 5 s, and never give up: a wall screen must come back by itself.
    var delay = Math.min(5000, 500 * Math.pow(2, retry));
    retry += 1;
    setTimeout(connect, delay);
  }

  function setText(el, text) {
    if (el && el.textContent !== text) { el.textContent = text; }
  }

  function setAttr(el, name, value) {
    if (el && el.getAttribute(name) !== value) { el.setAttribute(name, value); }
  }

  function applyRoom(roomId, r) {
    var tiles = document.querySelectorAll(
      '.tile[data-room="' + roomId + '"]:not([data-replay="true"])');
    for (var i = 0; i < tiles.length; i++) {
      var t = tiles[i];
      setAttr(t, "data-priority", r.priority);
      setAttr(t, "data-link", r.link);
      setAttr(t, "data-acknowledged", String(r.acknowledged));
      setAttr(t, "data-alarm-kind", r.alarm_kind);
      setAttr(t, "data-audio-paused", String(r.audio_paused_s > 0));
      setAttr(t.querySelector('[data-action="ack"]'), "data-alarm", r.ack_id);
      setText(t.querySelector('[data-field="pause"]'), r.audio_paused_s > 0 ?
        "Paused " + Math.floor(r.audio_paused_s / 60) + ":" +
        ("0" + (r.audio_paused_s % 60)).slice(-2) : "Pause");
      setText(t.querySelector('[data-field="alarm"]'), r.alarm || "\u00a0");
      setText(t.querySelector('[data-field="session"]'), r.session_id ? r.session : "");
      setText(t.querySelector('[data-field="phase"]'), r.phase || "");
      setText(t.querySelector('[data-field="nibp-age"]'), r.nibp.age);
      setAttr(t.querySelector(".nibp"), "data-stale", String(r.nibp.stale));
      for (var code in r.values) {
        var v = r.values[code];
        var el = t.querySelector('[data-vital="' + code + '"]');
        if (!el) { continue; }
        setAttr(el, "data-stale", String(v.stale));
        setAttr(el, "data-invalid", String(v.invalid));
        var target = el.querySelector(".value") || el;
        setText(target, code === "nibp_mean" ? "(" + v.text + ")" : v.text);
      }
    }
    var list = document.querySelector('[data-room-page="' + roomId + '"] #room-alarms');
    if (list) { renderAlarms(list, r.alarms); }
    var panel = document.querySelector('[data-session-room="' + roomId + '"]');
    if (panel) {
      setAttr(panel, "data-session-id", r.session_id ? String(r.session_id) : "");
      setText(panel.querySelector('[data-field="phase"]'), r.phase || "");
      setText(panel.querySelector('[data-field="session"]'), r.session);
      setText(panel.querySelector('[data-field="observation"]'),
        r.observation_left ? " · observation left " + r.observation_left : "");
    }
  }

  function renderAlarms(list, alarms) {
    var key = JSON.stringify(alarms.map(function (a) { return [a.id, a.priority, a.message]; }));
    if (list.getAttribute("data-key") === key) { return; }
    list.setAttribute("data-key", key);
    list.innerHTML = "";
    if (!alarms.length) {
      var none = document.createElement("li");
      none.className = "none";
      none.textContent = "None";
      list.appendChild(none);
    }
    alarms.forEach(function (a) {
      var li = document.createElement("li");
      li.className = "alarm-item";
      li.setAttribute("data-priority", a.priority);
      li.textContent = a.message + "  · since " + a.since.substr(11, 8);
      list.appendChild(li);
    });
  }

  function drawSpark(canvas, series) {
    var w = Math.floor(canvas.clientWidth), h = Math.floor(canvas.clientHeight);
    if (!w || !h) { return; }
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    var ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, w, h);
    var lines = [["hr", "#3ddc84", 30, 180], ["spo2", "#4fc3f7", 80, 100]];
    lines.forEach(function (l) {
      var data = series[l[0]] || [];
      var n = data.length;
      ctx.strokeStyle = l[1];
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      var pen = false;
      for (var i = 0; i < n; i++) {
        if (data[i] === null) { pen = false; continue; }
        var x = (i / Math.max(1, n - 1)) * (w - 2) + 1;
        var y = h - 1 - ((Math.min(l[3], Math.max(l[2], data[i])) - l[2]) / (l[3] - l[2])) * (h - 2);
        if (pen) { ctx.lineTo(x, y); } else { ctx.moveTo(x, y); pen = true; }
      }
      ctx.stroke();
    });
  }

  function trendGraph() {
    var gd = document.querySelector("[data-room-page] #room-trend .js-plotly-plot");
    if (!gd || !gd.data || !window.Plotly) { return null; }
    if (!gd._ivmonWatched) {
      gd._ivmonWatched = true;
      gd.on("plotly_relayout", function (e) {
        if (e["xaxis.range[0]"] || e["xaxis.range"]) { userZoomed = true; }
        if (e["xaxis.autorange"]) { userZoomed = false; }
      });
    }
    return gd;
  }

  function updateTrend(trend, nowIso) {
    // One redraw a second: slide the 60-minute window and append the new points together.
    var gd = trendGraph();
    if (!gd) { return; }
    var page = document.querySelector("[data-room-page]");
    var pts = (trend || {})[page.getAttribute("data-room-page")] || {};
    if (!userZoomed && nowIso) {
      var now = new Date(nowIso).getTime();
      gd.layout.xaxis.range = [now - 3600000, now];
      gd.layout.xaxis.autorange = false;
    }
    var codes = page.getAttribute("data-trend-codes").split(",");
    var xs = [], ys = [], idx = [];
    codes.forEach(function (code, i) {
      if (!pts[code]) { return; }
      idx.push(i);
      xs.push(pts[code].map(function (p) { return p[0]; }));
      ys.push(pts[code].map(function (p) { return p[1]; }));
    });
    if (idx.length) {
      window.Plotly.extendTraces(gd, { x: xs, y: ys }, idx, 4200);
    } else if (!userZoomed) {
      window.Plotly.relayout(gd, { "xaxis.range": gd.layout.xaxis.range });
    }
  }

  function apply(frame) {
    state.frames += 1;
    state.seq = frame.seq;
    lastFrameAt = Date.now();
    if (!lastFrame) { lastFrame = { rooms: {}, spark: {} }; }
    for (var roomId in frame.rooms) {
      lastFrame.rooms[roomId] = frame.rooms[roomId];
      applyRoom(roomId, frame.rooms[roomId]);
    }
    if (window.ivmonSoundFrame) { window.ivmonSoundFrame(lastFrame.rooms); }
    if (frame.spark) {
      for (var sid in frame.spark) { lastFrame.spark[sid] = frame.spark[sid]; }
      drawSparks();
    }
    if (frame.full) {
      setText(document.getElementById("station-clock"), frame.clock);
      updateTrend(frame.trend, frame.now);
    }
    escalations();
    var storage = frame.storage_problem;
    if (state.connected) {
      if (storage) { banner("storage", storage); } else { banner("ok", ""); }
    }
    state.lastSentMs = frame.sent_ms;
  }

  function escalations() {
    // A high alarm left unacknowledged too long is shown on every screen, whichever page.
    var el = document.getElementById("escalation-banner");
    if (!el) { return; }
    var lines = [];
    for (var id in lastFrame.rooms) {
      var r = lastFrame.rooms[id];
      (r.alarms || []).forEach(function (a) {
        if (a.escalated && !a.acknowledged_by) {
          lines.push((r.name || id) + " " + a.message);
        }
      });
    }
    setAttr(el, "data-shown", String(lines.length > 0));
    setText(el, lines.length ? "ESCALATED, unacknowledged: " + lines.join(" · ") : "");
  }

  function drawSparks() {
    var canvases = document.querySelectorAll(
      '.tile:not([data-replay="true"]) canvas[data-spark]');
    for (var i = 0; i < canvases.length; i++) {
      var s = lastFrame.spark[canvases[i].getAttribute("data-spark")];
      if (s) { drawSpark(canvases[i], s); }
    }
  }

  function syncRole() {
    var marker = document.getElementById("role-marker");
    if (marker) { setAttr(document.body, "data-role", marker.getAttribute("data-role")); }
  }

  function syncPage() {
    syncRole();
    // After Dash renders a page, bring its tiles to the newest frame and subscribe to the
    // room whose trends are on screen.
    if (lastFrame) {
      for (var roomId in lastFrame.rooms) { applyRoom(roomId, lastFrame.rooms[roomId]); }
      drawSparks();
    }
    var page = document.querySelector("[data-room-page]");
    var want = page ? page.getAttribute("data-room-page") : "";
    if (want !== subscribed && ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ room: want }));
      subscribed = want;
      userZoomed = false;
    }
  }

  // Commands: acknowledge an alarm, pause a room's audio. The server checks the role; a refusal
  // is shown in its own words.
  function toast(text) {
    var el = document.getElementById("toast");
    if (!el) {
      el = document.createElement("div");
      el.id = "toast";
      el.setAttribute("role", "alert");
      document.body.appendChild(el);
    }
    el.textContent = text;
    el.setAttribute("data-shown", "true");
    clearTimeout(el._hide);
    el._hide = setTimeout(function () { el.setAttribute("data-shown", "false"); }, 5000);
  }

  function command(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) { toast(data.detail || ("The station refused: " + r.status)); }
        return r.ok;
      });
    }, function () { toast("The station could not be reached; nothing was changed."); });
  }
  window.ivmonCommand = command;

  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!el) { return; }
    var action = el.getAttribute("data-action");
    if (action === "ack") {
      var id = el.getAttribute("data-alarm");
      if (!id) { toast("There is no unacknowledged alarm in this room."); return; }
      var note = document.getElementById("ack-note");
      command("/api/alarms/" + encodeURIComponent(id) + "/acknowledge",
        { note: note && note.value ? note.value : null });
    } else if (action === "pause") {
      command("/api/rooms/" + encodeURIComponent(el.getAttribute("data-room-id")) +
        "/audio-pause", {});
    }
  });

  var pending = false;
  new MutationObserver(function (mutations) {
    for (var i = 0; i < mutations.length; i++) {
      if (mutations[i].addedNodes.length) {
        if (!pending) {
          pending = true;
          requestAnimationFrame(function () { pending = false; syncPage(); });
        }
        return;
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  // A socket that is open but silent is as dangerous as a closed one: say so.
  setInterval(function () {
    if (state.connected && lastFrameAt && Date.now() - lastFrameAt > 3000) {
      banner("lost", "No update from the ivmon server for " +
        Math.round((Date.now() - lastFrameAt) / 1000) + " s: the values on this screen are " +
        "NOT live.");
    }
  }, 1000);

  connect();
})();
