"""ivmon's domain: vitals, readings, rooms, alarms, bus, storage and the service that wires them."""

__version__ = "0.1.0"
