// Replay playback: move the scrubber by the chosen speed each second, in the page.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  replay: {
    advance: function (tick, value, speed, max) {
      var next = (value || 0) + (speed || 1);
      return next > max ? max : next;
    }
  }
});
