"""Pure protocol codecs: bytes in, measurements out, no I/O."""
