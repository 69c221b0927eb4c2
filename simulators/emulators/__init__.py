"""Device emulators: each speaks one protocol's bytes for a simulated patient."""
