"""Device adapters: protocol codecs, the Device base and its registry of adapters by name."""
