// ivmon alarm sounds: IEC 60601-1-8-style pulse bursts through Web Audio, one pattern per
// priority. The server decides what should sound (frame.rooms[*].sound); this only plays it.
(function () {
  "use strict";
  // Pulse start times (s) within one burst, and how often the burst repeats (s; 0 = once).
  var PATTERNS = {
    high: { freq: 880, pulses: [0, 0.2, 0.4, 1.0, 1.2, 2.0, 2.2, 2.4, 3.0, 3.2], every: 8 },
    medium: { freq: 660, pulses: [0, 0.25, 0.5], every: 12 },
    low: { freq: 520, pulses: [0, 0.3], every: 0 }
  };
  var RANK = { none: 0, low: 1, medium: 2, high: 3 };
  var ctx = null;
  var state = { enabled: false, playing: "none", bursts: 0, lastReminders: {} };
  window.ivmonSound = state;
  var timer = null;
  var lastLow = 0;

  function pulse(at, freq) {
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.type = "triangle";  // a few harmonics: easier to locate than a pure sine
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.5, at + 0.02);
    gain.gain.setValueAtTime(0.5, at + 0.13);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + 0.18);
  }

  function burst(priority) {
    state.bursts += 1;
    if (!ctx || !state.enabled) { return; }
    var p = PATTERNS[priority];
    var t0 = ctx.currentTime + 0.05;
    p.pulses.forEach(function (t) { pulse(t0 + t, p.freq); });
  }

  function play(priority) {
    if (priority === state.playing) { return; }
    state.playing = priority;
    if (timer) { clearInterval(timer); timer = null; }
    if (priority === "none") { return; }
    if (priority === "low") {
      // A low alarm sounds once, and not again within 30 s.
      if (Date.now() - lastLow > 30000) { burst("low"); lastLow = Date.now(); }
      return;
    }
    burst(priority);
    timer = setInterval(function () { burst(priority); }, PATTERNS[priority].every * 1000);
  }

  function showState() {
    // Write only what changed: this runs from a MutationObserver, and a write that changes
    // nothing would still be a mutation, and loop.
    var warn = document.getElementById("sound-warning");
    var btn = document.getElementById("sound-toggle");
    var off = String(!state.enabled);
    if (warn && warn.getAttribute("data-off") !== off) { warn.setAttribute("data-off", off); }
    var label = state.enabled ? "Sound on" : "Enable sound";
    if (btn && btn.textContent !== label) { btn.textContent = label; }
    var mode = state.enabled ? "on" : "off";
    if (document.body && document.body.getAttribute("data-sound") !== mode) {
      document.body.setAttribute("data-sound", mode);
    }
  }

  function enable() {
    try {
      ctx = ctx || new (window.AudioContext || window.webkitAudioContext)();
      ctx.resume();
      state.enabled = true;
      burst("low");  // a short confirmation that the speakers work
    } catch (e) {
      state.enabled = false;
    }
    showState();
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target && target.id === "sound-toggle") {
      if (state.enabled) { state.enabled = false; play("none"); showState(); } else { enable(); }
    }
  });

  // Called by live.js with every frame: sound the most urgent room, and one burst for each
  // reminder of an acknowledged alarm that persists.
  window.ivmonSoundFrame = function (rooms) {
    var worst = "none";
    for (var id in rooms) {
      var r = rooms[id];
      if (RANK[r.sound || "none"] > RANK[worst]) { worst = r.sound; }
      var seen = state.lastReminders[id];
      if (seen !== undefined && r.reminders > seen && r.priority !== "none") { burst(r.priority); }
      state.lastReminders[id] = r.reminders || 0;
    }
    play(worst);
    showState();
  };

  new MutationObserver(showState).observe(document.documentElement,
    { childList: true, subtree: true });
})();
