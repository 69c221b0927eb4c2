"""What every virtual port (a capture replayed, a simulated monitor) says about its line:
no modem lines to drive, no settings to apply; each handler supplies reading and writing."""

from __future__ import annotations

from serial.serialutil import SerialBase


class VirtualLine(SerialBase):
    """The modem-line and configuration part of a pyserial port with nothing physical behind."""

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
