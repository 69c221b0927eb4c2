"""Users, roles, password hashes (scrypt), API tokens and kiosk link tokens."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from monitor.errors import IvmonError
from monitor.storage.schema import TokenRow, UserRow, to_ms

# scrypt with n=2**15, r=8 costs about 32 MiB and tens of milliseconds: slow for an attacker
# trying passwords, unnoticeable at a sign-in.
_N, _R, _P, _LEN = 2 ** 15, 8, 1, 32
MIN_PASSWORD = 10
_NAME = re.compile(r"^[A-Za-z0-9._-]{2,64}$")


class Role(enum.IntEnum):
    """What a signed-in person may do; each role may do everything of the ones below it."""

    KIOSK = 0  # a wall screen: sees the station, plays alarms, changes nothing
    VIEWER = 1  # sees, reviews and exports
    NURSE = 2  # also acknowledges, pauses audio, runs sessions
    ADMIN = 3  # also edits limits, devices and users

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            role = cls[text.upper()]
        except KeyError:
            raise AccountError(f"Unknown role {text!r}; choose viewer, nurse or admin.") from None
        if role is cls.KIOSK:
            raise AccountError("Kiosk screens use link tokens ('ivmon kiosk add'), not accounts.")
        return role


class AccountError(IvmonError):
    """A user or token operation cannot be done (named in one sentence)."""


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in identity: a person, a person's API token, or a kiosk link."""

    name: str
    role: Role
    id: int | None = None
    disabled: bool = False

    @property
    def is_kiosk(self) -> bool:
        return self.role is Role.KIOSK


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN,
                            maxmem=64 * 1024 * 1024)
    salt64, digest64 = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"scrypt${_N}${_R}${_P}${salt64}${digest64}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                                r=int(r), p=int(p), dklen=len(expected),
                                maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash of a password nobody has, so an unknown user costs the same time as a wrong password.
_DUMMY = hash_password(secrets.token_hex(16))


def token_hash(token: str) -> str:
    """Tokens are long random strings, so a fast hash is enough to keep them unreadable at rest."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"A password needs at least {MIN_PASSWORD} characters.")


class Accounts:
    """The user and token store, in the station's database."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    # -- users -------------------------------------------------------------------------

    def add(self, name: str, role: Role, password: str) -> User:
        if not _NAME.match(name):
            raise AccountError("A user name is 2-64 letters, digits, '.', '_' or '-'.")
        check_password_rules(password)
        now = to_ms(datetime.now(UTC))
        try:
            with self.db.begin() as conn:
                user_id = conn.execute(insert(UserRow).values(
                    name=name, role=role.name.lower(), password_hash=hash_password(password),
                    disabled=False, created_ms=now, password_changed_ms=now,
                )).inserted_primary_key[0]
        except IntegrityError:
            raise AccountError(f"A user called {name!r} already exists.") from None
        return User(name, role, int(user_id))

    def list(self) -> list[User]:
        with self.db.connect() as conn:
            rows = conn.execute(select(UserRow.__table__).order_by(UserRow.name)).all()
        return [User(r.name, Role[r.role.upper()], r.id, r.disabled) for r in rows]

    def count(self) -> int:
        return len(self.list())

    def get(self, name: str) -> User | None:
        with self.db.connect() as conn:
            row = conn.execute(select(UserRow.__table__).where(UserRow.name == name)).first()
        return None if row is None else User(row.name, Role[row.role.upper()], row.id,
                                             row.disabled)

    def _require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise AccountError(f"There is no user called {name!r}.")
        return user

    def set_password(self, name: str, password: str) -> None:
        self._require(name)
        check_password_rules(password)
        with self.db.begin() as conn:
            conn.execute(update(UserRow).where(UserRow.name == name).values(
                password_hash=hash_password(password),
                password_changed_ms=to_ms(datetime.now(UTC))))

    def set_disabled(self, name: str, disabled: bool = True) -> None:
        self._require(name)
        with self.db.begin() as conn:
            conn.execute(update(UserRow).where(UserRow.name == name).values(disabled=disabled))

    def set_role(self, name: str, role: Role) -> None:
        self._require(name)
        with self.db.begin() as conn:
            conn.execute(update(UserRow).where(UserRow.name == name).values(
                role=role.name.lower()))

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if the password is right and the account enabled; None otherwise."""
        with self.db.connect() as conn:
            row = conn.execute(select(UserRow.__table__).where(UserRow.name == name)).first()
        if row is None:
            verify_password(password, _DUMMY)
            return None
        if not verify_password(password, row.password_hash) or row.disabled:
            return None
        return User(row.name, Role[row.role.upper()], row.id)

    # -- tokens --------------------------------------------------------------------------

    def issue_token(self, kind: str, *, user: str | None = None, label: str = "",
                    created_by: str = "") -> str:
        """Create an API token for a user, or a kiosk link token; return it (shown once)."""
        user_id = self._require(user).id if user else None
        token = secrets.token_urlsafe(32)
        with self.db.begin() as conn:
            conn.execute(insert(TokenRow).values(
                kind=kind, token_hash=token_hash(token), user_id=user_id, label=label,
                created_by=created_by, created_ms=to_ms(datetime.now(UTC))))
        return token

    def revoke_token(self, token_id: int) -> None:
        with self.db.begin() as conn:
            done = conn.execute(update(TokenRow).where(
                TokenRow.id == token_id, TokenRow.revoked_ms.is_(None)).values(
                revoked_ms=to_ms(datetime.now(UTC)))).rowcount
        if not done:
            raise AccountError(f"There is no active token number {token_id}.")

    def tokens(self, kind: str) -> list[TokenRow]:
        with self.db.connect() as conn:
            return list(conn.execute(select(TokenRow.__table__).where(TokenRow.kind == kind)
                                     .order_by(TokenRow.id)).all())

    def by_token(self, token: str, kind: str) -> User | None:
        """The identity behind a token, or None if it is unknown, revoked or its user disabled."""
        with self.db.connect() as conn:
            row = conn.execute(select(TokenRow.__table__).where(
                TokenRow.token_hash == token_hash(token), TokenRow.kind == kind,
                TokenRow.revoked_ms.is_(None))).first()
            if row is None:
                return None
            if kind == "kiosk":
                return User(f"kiosk:{row.label or row.id}", Role.KIOSK)
            user = conn.execute(select(UserRow.__table__).where(UserRow.id == row.user_id)
                                ).first()
        if user is None or user.disabled:
            return None
        return User(user.name, Role[user.role.upper()], user.id)
