"""pyserial URL handlers for simulated monitors (``sim://``), registered via an entry point."""
