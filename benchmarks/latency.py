"""Reading-to-screen latency and server CPU share, for 8 and 64 simulated rooms in real time.

For every heart-rate reading published on the bus the time is noted; in a Chromium page a
MutationObserver notes when each tile's HR number changes. A DOM change is matched to the
newest reading of that room with that value published before it. Both clocks are this
machine's wall clock. CPU share is the server process's CPU time over the window (the
simulated monitors run in the same process, so the figure is an upper bound for the server).

    python benchmarks/latency.py [--rooms 8 64] [--seconds 60]
"""

from __future__ import annotations

import argparse
import bisect
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from dashboards.app import create_app  # noqa: E402
from monitor.accounts import Accounts, Role  # noqa: E402
from monitor.cli_station import build_devices, demo_config  # noqa: E402
from monitor.clock import ScaledClock  # noqa: E402
from monitor.config import Config  # noqa: E402
from monitor.reading import Reading  # noqa: E402
from monitor.service import Station  # noqa: E402
from tests.dashboards.conftest import _chrome  # noqa: E402
from tests.servers import free_port, wait_until  # noqa: E402

PASSWORD = "benchmark-password"

OBSERVER = """
window.__lat = [];
new MutationObserver(function (ms) {
  var now = Date.now();
  ms.forEach(function (m) {
    var el = m.target.nodeType === 3 ? m.target.parentNode : m.target;
    var v = el && el.closest && el.closest('[data-vital="hr"]');
    var t = v && v.closest('.tile');
    if (t) {
      window.__lat.push([t.getAttribute('data-room'), v.querySelector('.value').textContent, now]);
    }
  });
}).observe(document.body, {childList: true, subtree: true, characterData: true});
"""


def sign_in(browser, url: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(url + "/login")
    browser.find_element(By.NAME, "name").send_keys("bench")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_until(lambda: "/login" not in browser.current_url, 20, what="signing in")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(rooms: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        config, plans = demo_config(Config(data_dir=Path(tmp)), rooms, 1.0, "sim")
        config = config.with_overrides(port=free_port())
        clock = ScaledClock(1.0)
        station = Station(config, build_devices(config, clock), clock=clock)
        published: dict[str, list[tuple[float, str]]] = defaultdict(list)
        publish = station.bus.publish

        def timed_publish(message: object) -> None:
            if isinstance(message, Reading) and message.code == "hr":
                published[message.room].append((time.time() * 1000, f"{message.value:.0f}"))
            publish(message)

        station.bus.publish = timed_publish  # type: ignore[method-assign]
        _app, server, push = create_app(station)
        uv = uvicorn.Server(uvicorn.Config(server, host="127.0.0.1", port=config.port,
                                           log_level="warning", lifespan="on"))
        thread = threading.Thread(target=uv.run, daemon=True)
        thread.start()
        station.start(plans)
        wait_until(lambda: uv.started, 30, what="the server")
        Accounts(station.db).add("bench", Role.VIEWER, PASSWORD)
        browser = _chrome(1920, 1080)
        try:
            sign_in(browser, f"http://127.0.0.1:{config.port}")
            wait_until(lambda: browser.execute_script(
                "return window.ivmonLive && window.ivmonLive.frames") > 2, 30)
            browser.execute_script(OBSERVER)
            time.sleep(2)
            cpu0, wall0 = cpu_seconds(), time.monotonic()
            browser.execute_script("window.__lat = [];")
            time.sleep(seconds)
            changes = browser.execute_script("return window.__lat;")
            cpu = (cpu_seconds() - cpu0) / (time.monotonic() - wall0)
            frames = push.frames_sent
        finally:
            browser.quit()
            uv.should_exit = True
            thread.join(10)
            station.stop()
    latencies = []
    for room, text, dom_ms in changes:
        series = published.get(room, [])
        times = [t for t, _ in series]
        i = bisect.bisect_right(times, dom_ms) - 1
        while i >= 0 and series[i][1] != text:
            i -= 1
        if i >= 0 and dom_ms - series[i][0] < 5000:
            latencies.append(dom_ms - series[i][0])
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 2 else [float("nan")] * 99
    return {"rooms": rooms, "samples": len(latencies), "p50": q[49], "p95": q[94],
            "max": max(latencies, default=float("nan")), "cpu_share": cpu * 100,
            "frames": frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, "
          f"{len(__import__('os').sched_getaffinity(0))} cores")
    print("rooms  samples  p50 ms  p95 ms  max ms  server CPU % of one core")
    for rooms in args.rooms:
        r = measure(rooms, args.seconds)
        print(f"{r['rooms']:5d}  {r['samples']:7d}  {r['p50']:6.0f}  {r['p95']:6.0f}  "
              f"{r['max']:6.0f}  {r['cpu_share']:5.1f}", flush=True)


if __name__ == "__main__":
    main()
