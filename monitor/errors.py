"""ivmon's one error tree; every error a user can see reads as one plain sentence.

    IvmonError
     ├── ConfigError          a config file or variable is wrong (names file, key, expectation)
     ├── DeviceError          something between ivmon and a bedside monitor
     │    ├── PortError       the port cannot be opened, or was lost (cable, adapter, network)
     │    └── UnknownProtocolError  no adapter registered under that protocol name
     ├── StorageError         the database cannot be reached or written
     ├── AlarmNotFound        an acknowledgement names no active alarm (unknown or ended)
     └── AlarmRulesError      a profile, rule or alarm setting is not valid (one sentence each)

Foreign errors (sqlite3, psycopg, serial) are translated at the boundary with
``raise ... from`` so a developer still gets the chain.
"""

from __future__ import annotations


class IvmonError(Exception):
    """Base of every error ivmon raises on purpose."""


class ConfigError(IvmonError):
    """A configuration file or ``IVMON_*`` variable is wrong."""

    def __init__(self, source: str, key: str, expected: str, got: object = None) -> None:
        self.source, self.key, self.expected = source, key, expected
        found = "" if got is None else f", found {got!r}"
        super().__init__(f"{source}: '{key}' must be {expected}{found}.")


class DeviceError(IvmonError):
    """Something went wrong between ivmon and a bedside monitor."""


class PortError(DeviceError):
    """A port could not be opened or was lost."""


class UnknownProtocolError(DeviceError):
    """No device adapter is registered under a protocol name."""


class StorageError(IvmonError):
    """The database cannot be reached or written."""


class AlarmNotFound(IvmonError):
    """A command names an alarm that is not active: unknown, or already ended."""

    def __init__(self, alarm_id: str) -> None:
        self.alarm_id = alarm_id
        super().__init__(f"There is no active alarm {alarm_id!r}; it may have ended already.")


class AlarmRulesError(IvmonError):
    """A profile, a rule or a clinic alarm setting is not valid.

    ``problems`` holds one plain sentence per problem, for a form to show next to its fields.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__(" ".join(problems))
