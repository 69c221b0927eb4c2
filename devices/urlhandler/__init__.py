"""pyserial URL handlers that ship with the device adapters (``replay://``), via an entry point."""
