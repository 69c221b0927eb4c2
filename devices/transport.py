"""Opening ports by pyserial URL, with errors a clinic's IT person can act on."""

from __future__ import annotations

import errno
from importlib.metadata import entry_points
from typing import Any

import serial

from monitor.errors import PortError

HANDLER_GROUP = "ivmon.port_handlers"
_registered = False


def register_url_handlers() -> None:
    """Add the URL handler packages other distributions declare (e.g. ``sim://``) to pyserial.

    They are found through an entry-point group, so this package never imports the
    simulators: a simulator is reached exactly as hardware is, through a port URL.
    """
    global _registered
    if _registered:
        return
    for ep in entry_points(group=HANDLER_GROUP):
        if ep.value not in serial.protocol_handler_packages:
            serial.protocol_handler_packages.append(ep.value)
    _registered = True


def describe(url: str) -> str:
    """A port URL as a person would name it."""
    return url.split("?", 1)[0]


def open_port(url: str, timeout: float = 0.1, **settings: Any) -> serial.SerialBase:
    """Open ``url`` with the given serial settings, or raise PortError in one sentence."""
    register_url_handlers()
    try:
        return serial.serial_for_url(url, timeout=timeout, write_timeout=2.0, **settings)
    except ValueError as exc:
        raise PortError(f"The port address {url!r} is not valid: {exc}.") from exc
    except (serial.SerialException, OSError) as exc:
        raise PortError(f"Cannot open the port {describe(url)}: {reason(exc)}.") from exc


def reason(exc: BaseException) -> str:
    """Turn an OS or pyserial error into the likely cause, in plain words."""
    code = getattr(exc, "errno", None)
    if code is None and exc.__context__ is not None:
        code = getattr(exc.__context__, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text:
        return "no such port (is the USB-serial adapter plugged in, and the name right?)"
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return "permission denied (add the ivmon user to the 'dialout' group)"
    if code == errno.EBUSY or "busy" in text.lower():
        return "the port is in use by another program"
    if code == errno.ECONNREFUSED or "refused" in text.lower():
        return "the terminal server refused the connection (check its address and port)"
    if code in (errno.EIO, errno.ENXIO) or "device reports readiness" in text:
        return "the device went away (cable or adapter unplugged?)"
    return text or exc.__class__.__name__
