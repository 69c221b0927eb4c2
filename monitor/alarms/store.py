"""Where alarm profiles, clinic-wide alarm settings and per-session limit overrides are kept."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from monitor.alarms.profiles import (
    profile_from_dict,
    profile_problems,
    profile_to_dict,
    rules_from_json,
    rules_problems,
    rules_to_json,
)
from monitor.alarms.rules import PROFILES, Profile, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.commands import ChangeProfile, ChangeSettings, OverrideLimits
from monitor.errors import AlarmRulesError, StorageError
from monitor.storage.database import safe_url
from monitor.storage.schema import LimitOverrideRow, ProfileRow, SettingRow, from_ms, to_ms


@dataclass(frozen=True, slots=True)
class LimitOverride:
    """A nurse's limits for one session, with who and why."""

    session_id: int
    rules: tuple[Rule, ...]
    reason: str
    by_user: str
    at: datetime


class AlarmStore:
    """Profiles (the clinic's edits over the built-in ones), settings and overrides."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    # -- profiles -------------------------------------------------------------------------

    def profiles(self) -> dict[str, Profile]:
        """Every profile by name: the built-ins, replaced or joined by the clinic's own."""
        found = dict(PROFILES)
        with self.db.connect() as conn:
            rows = conn.execute(select(ProfileRow).order_by(ProfileRow.name)).all()
        for row in rows:
            try:
                data = {**json.loads(row.rules_json), "name": row.name, "title": row.title}
                found[row.name] = profile_from_dict(data)
            except (ValueError, AlarmRulesError) as exc:
                problems = exc.problems if isinstance(exc, AlarmRulesError) else [str(exc)]
                raise AlarmRulesError([f"The stored alarm profile {row.name!r} is not valid:",
                                       *problems]) from exc
        return found

    def profile(self, name: str) -> Profile:
        """One profile by name, or KeyError listing the profiles that exist."""
        profiles = self.profiles()
        try:
            return profiles[name]
        except KeyError:
            raise KeyError(f"unknown alarm profile {name!r}; expected one of "
                           f"{', '.join(profiles)}") from None

    def save_profile(self, profile: Profile, user: str, at: datetime) -> None:
        """Keep a profile (validated first); a built-in's name replaces the built-in."""
        problems = profile_problems(profile)
        if problems:
            raise AlarmRulesError(problems)
        body = {k: v for k, v in profile_to_dict(profile).items() if k not in ("name", "title")}
        with self.db.begin() as conn:
            conn.execute(delete(ProfileRow).where(ProfileRow.name == profile.name))
            conn.execute(insert(ProfileRow).values(
                name=profile.name, title=profile.title, rules_json=json.dumps(body),
                updated_ms=to_ms(at), updated_by=user))

    def delete_profile(self, name: str) -> bool:
        """Forget the clinic's version of a profile (a built-in one is then used again)."""
        with self.db.begin() as conn:
            return conn.execute(delete(ProfileRow).where(ProfileRow.name == name)).rowcount > 0

    # -- clinic-wide settings -------------------------------------------------------------

    def settings(self) -> AlarmSettings:
        """The clinic's settings; each one not stored keeps its default."""
        with self.db.connect() as conn:
            rows = conn.execute(select(SettingRow.key, SettingRow.value_json)).all()
        known = set(AlarmSettings().to_dict())
        values: dict[str, Any] = {r.key: json.loads(r.value_json) for r in rows if r.key in known}
        try:
            return AlarmSettings.from_dict(values)
        except AlarmRulesError as exc:
            raise AlarmRulesError(["The stored alarm settings are not valid:",
                                   *exc.problems]) from exc

    def save_settings(self, settings: AlarmSettings, user: str, at: datetime) -> None:
        settings.validated()
        with self.db.begin() as conn:
            for key, value in settings.to_dict().items():
                conn.execute(delete(SettingRow).where(SettingRow.key == key))
                conn.execute(insert(SettingRow).values(key=key, value_json=json.dumps(value),
                                                       updated_ms=to_ms(at), updated_by=user))

    # -- limits for one session -----------------------------------------------------------

    def save_override(self, session_id: int, rules: tuple[Rule, ...], user: str, reason: str,
                      at: datetime) -> None:
        problems = rules_problems(rules)
        if not reason.strip():
            problems.append("A change of limits needs a reason, for the record.")
        if problems:
            raise AlarmRulesError(problems)
        with self.db.begin() as conn:
            conn.execute(insert(LimitOverrideRow).values(
                session_id=session_id, rule_json=rules_to_json(rules), reason=reason,
                by_user=user, at_ms=to_ms(at)))

    def overrides(self, session_id: int) -> list[LimitOverride]:
        """A session's limit changes, oldest first; the last one is in force."""
        with self.db.connect() as conn:
            rows = conn.execute(select(LimitOverrideRow)
                                .where(LimitOverrideRow.session_id == session_id)
                                .order_by(LimitOverrideRow.id)).all()
        return [LimitOverride(r.session_id, rules_from_json(r.rule_json), r.reason, r.by_user,
                              from_ms(r.at_ms)) for r in rows]

    def record(self, command: object) -> None:
        """Keep an accepted change command: the alarm listener calls this before applying it,
        so a change that cannot be logged is refused rather than applied unrecorded."""
        try:
            if isinstance(command, OverrideLimits):
                self.save_override(command.session_id, command.rules, command.user,
                                   command.reason, command.at)
            elif isinstance(command, ChangeProfile):
                self.save_profile(command.profile, command.user, command.at)
            elif isinstance(command, ChangeSettings):
                self.save_settings(command.settings, command.user, command.at)
        except SQLAlchemyError as exc:
            raise StorageError(f"The change was not applied: the database at "
                               f"{safe_url(str(self.db.url))} did not accept it.") from exc
