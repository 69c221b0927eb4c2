"""What every virtual port (a capture replayed, a simulated monitor) says about its line:
no modem lines to drive, no settings to apply; each handler supplies reading and writing."""

from __future__ import annotations

from serial.serialutil import SerialBase, SerialException


class VirtualLine(SerialBase):
    """The modem-line and configuration part of a pyserial port with nothing physical behind.

    ``open()`` makes pyserial's checks and hands the URL to ``_open_url()``, which a handler
    fills; a ValueError from it (a bad URL) becomes the SerialException pyserial callers expect.
    """

    def open(self) -> None:
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise SerialException("Port is already open.")
        try:
            self._open_url(self._port)
        except ValueError as exc:
            raise SerialException(str(exc)) from None
        self.is_open = True

    def _open_url(self, url: str) -> None:
        raise NotImplementedError

    def _reconfigure_port(self) -> None:
        pass  # baud rate and framing mean nothing to a virtual line

    def reset_output_buffer(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    def _update_break_state(self) -> None:
        pass
