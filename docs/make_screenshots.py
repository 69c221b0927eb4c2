"""Screenshots of the real app for the README: run `make screenshot` from the project root."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboards.conftest import _chrome, sign_in  # noqa: E402
from tests.servers import DemoServer, wait_until  # noqa: E402

DOCS = ROOT / "docs"


def shoot(rooms: int, speed: float, settle: float, shots: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = DemoServer(Path(tmp), rooms=rooms, speed=speed).start()
        browser = _chrome(1920, 1080)
        # The page itself, not the window, is 1920 x 1080: what a wall screen shows.
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        try:
            sign_in(browser, server, "nurse")
            wait_until(lambda: browser.execute_script("return window.ivmonLive.frames") > 2, 30)
            time.sleep(settle)  # let the scenarios raise their alarms
            for path, name in shots:
                if path == "replay":
                    # The hypertension room's session, scrubbed to where its alarm began.
                    found = browser.execute_script(
                        "return fetch('/api/sessions?room=r2').then(r => r.json());")
                    path = f"/replay/{found[0]['id']}"
                browser.get(server.url + path)
                wait_until(lambda: browser.execute_script(
                    "return window.ivmonLive && window.ivmonLive.frames") > 2, 30)
                time.sleep(3)
                browser.save_screenshot(str(DOCS / name))
                print(f"wrote docs/{name}")
        finally:
            browser.quit()
            server.stop()


if __name__ == "__main__":
    shoot(8, 10, 40, [("/", "central-station.png"), ("/room/r2", "room-page.png"),
                      ("replay", "replay-page.png")])
    shoot(32, 10, 20, [("/", "central-station-32.png")])
