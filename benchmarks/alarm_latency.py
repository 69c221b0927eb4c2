"""Alarm and acknowledgement latency to other screens, with 64 simulated rooms as load.

A probe room (no device) gets cuff readings published on the bus: a high one completes the
``SBP > 180`` condition at once (NIBP is judged per measurement), a normal one clears it. In
two other Chromium pages a MutationObserver notes when the probe tile turns high, and when
it turns acknowledged after a nurse acknowledges over the API. Wall clocks of one machine.

    python benchmarks/alarm_latency.py [--rooms 64] [--alarms 40]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from benchmarks.latency import PASSWORD, sign_in  # noqa: E402
from dashboards.app import create_app  # noqa: E402
from monitor.accounts import Accounts, Role  # noqa: E402
from monitor.cli_station import build_devices, demo_config  # noqa: E402
from monitor.clock import ScaledClock  # noqa: E402
from monitor.config import Config, RoomConfig  # noqa: E402
from monitor.reading import Reading  # noqa: E402
from monitor.service import Station  # noqa: E402
from tests.dashboards.conftest import _chrome  # noqa: E402
from tests.servers import free_port, wait_until  # noqa: E402

PROBE = "probe"
WATCH = """
window.__seen = [];
var t = document.querySelector('.tile[data-room="probe"]');
new MutationObserver(function () {
  window.__seen.push([t.getAttribute('data-priority'), t.getAttribute('data-acknowledged'),
                      Date.now()]);
}).observe(t, {attributes: true, attributeFilter: ['data-priority', 'data-acknowledged']});
"""


def api_client(url: str, user: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(url + "/login").read().decode()
    csrf = re.search(r"name='csrf' value='([^']+)'", page).group(1)
    body = urllib.parse.urlencode({"name": user, "password": PASSWORD, "csrf": csrf}).encode()
    opener.open(urllib.request.Request(url + "/login", data=body, headers={"Origin": url}))
    return opener


def first_after(seen: list, t0: float, test) -> float | None:  # type: ignore[no-untyped-def]
    times = [ms for p, a, ms in seen if ms >= t0 and test(p, a)]
    return min(times) - t0 if times else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=64)
    parser.add_argument("--alarms", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, plans = demo_config(Config(data_dir=Path(tmp)), args.rooms, 1.0, "sim")
        config = replace(config, port=free_port(),
                         rooms=(*config.rooms, RoomConfig(PROBE, "Probe")))
        clock = ScaledClock(1.0)
        station = Station(config, build_devices(config, clock), clock=clock)
        accounts = Accounts(station.db)
        accounts.add("bench", Role.VIEWER, PASSWORD)
        accounts.add("nurse1", Role.NURSE, PASSWORD)
        _app, server, _push = create_app(station)
        uv = uvicorn.Server(uvicorn.Config(server, host="127.0.0.1", port=config.port,
                                           log_level="warning", lifespan="on"))
        threading.Thread(target=uv.run, daemon=True).start()
        station.start(plans)
        wait_until(lambda: uv.started, 30)
        url = f"http://127.0.0.1:{config.port}"
        screens = [_chrome(), _chrome()]
        nurse = api_client(url, "nurse1")
        alarm_ms: list[float] = []
        ack_ms: list[float] = []
        seq = 0
        try:
            for b in screens:
                sign_in(b, url)
                wait_until(lambda b=b: b.find_elements("css selector",
                                                       '.tile[data-room="probe"]'), 30)
                b.execute_script(WATCH)
            for i in range(args.alarms):
                for value in (120.0, 190.0):
                    seq += 1
                    t0 = time.time() * 1000
                    for code, v in (("nibp_sys", value), ("nibp_dia", value * 0.55),
                                    ("nibp_mean", value * 0.7)):
                        station.bus.publish(Reading(PROBE, "probe", code, v, clock.now(),
                                                    seq=seq))
                    if value < 180:
                        time.sleep(1.0)
                        continue
                    time.sleep(1.0)
                    for b in screens[1:]:
                        lat = first_after(b.execute_script("return window.__seen"), t0,
                                          lambda p, a: p == "high")
                        if lat is not None:
                            alarm_ms.append(lat)
                    alarm = next(a for a in station.live.snapshot(clock.now(), [PROBE])[0].alarms
                                 if a.vital == "nibp_sys")
                    t1 = time.time() * 1000
                    request = urllib.request.Request(
                        f"{url}/api/alarms/{alarm.id}/acknowledge", data=b"{}",
                        headers={"Content-Type": "application/json", "Origin": url})
                    nurse.open(request).read()
                    time.sleep(1.0)
                    for b in screens:
                        lat = first_after(b.execute_script("return window.__seen"), t1,
                                          lambda p, a: a == "true")
                        if lat is not None:
                            ack_ms.append(lat)
                print(f"  {i + 1}/{args.alarms} alarms", end="\r", file=sys.stderr, flush=True)
        finally:
            for b in screens:
                b.quit()
            uv.should_exit = True
            station.stop()
    print(f"machine: {platform.platform()}, Python {platform.python_version()}, "
          f"{len(__import__('os').sched_getaffinity(0))} cores; {args.rooms} simulated rooms "
          f"in real time as load")
    for name, values in (("alarm raised -> other screen", alarm_ms),
                         ("acknowledged -> every screen", ack_ms)):
        q = statistics.quantiles(values, n=100) if len(values) > 2 else [float("nan")] * 99
        print(f"{name:30} n={len(values):3d}  p50 {q[49]:5.0f} ms  p95 {q[94]:5.0f} ms  "
              f"max {max(values, default=float('nan')):5.0f} ms")


if __name__ == "__main__":
    main()
