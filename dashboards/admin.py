"""User and kiosk-link administration: one set of checked operations for the API and the page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from dashboards.security import SessionStore, client_address, require
from monitor.accounts import AccountError, Accounts, Role, User
from monitor.audit import AuditLog
from monitor.storage.schema import from_ms


class Forbidden(Exception):
    """The signed-in user's role does not allow this."""


class AdminOps:
    """Every administrative change: checked for the admin role, then written to the audit log."""

    def __init__(self, accounts: Accounts, audit: AuditLog, sessions: SessionStore) -> None:
        self.accounts, self.audit, self.sessions = accounts, audit, sessions

    def _check(self, actor: User | None, what: str, address: str) -> User:
        if actor is None or actor.role < Role.ADMIN:
            name = actor.name if actor else "anonymous"
            self.audit.append(name, "forbidden", what, {"needed": "admin"}, address)
            raise Forbidden(f"Only an administrator may {what}.")
        return actor

    def users(self, actor: User | None, address: str = "") -> list[dict[str, Any]]:
        self._check(actor, "see the user list", address)
        return [{"name": u.name, "role": u.role.name.lower(), "disabled": u.disabled}
                for u in self.accounts.list()]

    def add_user(self, actor: User | None, name: str, role: str, password: str,
                 address: str = "") -> None:
        admin = self._check(actor, "add users", address)
        self.accounts.add(name, Role.parse(role), password)
        self.audit.append(admin.name, "user added", name, {"role": role}, address)

    def set_disabled(self, actor: User | None, name: str, disabled: bool,
                     address: str = "") -> None:
        admin = self._check(actor, "disable or enable users", address)
        if disabled and name == admin.name:
            raise AccountError("You cannot disable your own account.")
        self.accounts.set_disabled(name, disabled)
        if disabled:
            self.sessions.end_user(name)
        self.audit.append(admin.name, "user disabled" if disabled else "user enabled", name,
                          {}, address)

    def set_role(self, actor: User | None, name: str, role: str, address: str = "") -> None:
        admin = self._check(actor, "change roles", address)
        self.accounts.set_role(name, Role.parse(role))
        self.sessions.end_user(name)  # the new role applies from the next sign-in
        self.audit.append(admin.name, "role changed", name, {"role": role}, address)

    def kiosk_links(self, actor: User | None, address: str = "") -> list[dict[str, Any]]:
        self._check(actor, "see wall-screen links", address)
        return [{"id": t.id, "label": t.label, "created_by": t.created_by,
                 "created": from_ms(t.created_ms).isoformat(),
                 "revoked": t.revoked_ms is not None} for t in self.accounts.tokens("kiosk")]

    def issue_kiosk(self, actor: User | None, label: str, address: str = "") -> str:
        admin = self._check(actor, "issue wall-screen links", address)
        token = self.accounts.issue_token("kiosk", label=label, created_by=admin.name)
        self.audit.append(admin.name, "kiosk link issued", label, {}, address)
        return token

    def revoke_kiosk(self, actor: User | None, token_id: int, address: str = "") -> None:
        admin = self._check(actor, "revoke wall-screen links", address)
        self.accounts.revoke_token(token_id)
        self.audit.append(admin.name, "kiosk link revoked", str(token_id), {}, address)


class NewUser(BaseModel):
    name: str
    role: str = Field(description="viewer, nurse or admin")
    password: str = Field(min_length=1)


class NewKiosk(BaseModel):
    label: str


def build_admin_router(ops: AdminOps) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["administration"])
    admin = Depends(require(Role.ADMIN, ops.audit))

    def run(call: Any) -> Any:
        try:
            return call()
        except Forbidden as exc:
            raise HTTPException(403, str(exc)) from None
        except AccountError as exc:
            raise HTTPException(400, str(exc)) from None

    @router.get("/users", summary="All users and their roles (admin)")
    def users(request: Request, user: User = admin) -> list[dict[str, Any]]:
        return run(lambda: ops.users(user, client_address(request.scope)))

    @router.post("/users", status_code=201, summary="Add a user (admin)")
    def add_user(body: NewUser, request: Request, user: User = admin) -> dict[str, str]:
        run(lambda: ops.add_user(user, body.name, body.role, body.password,
                                 client_address(request.scope)))
        return {"name": body.name}

    @router.post("/users/{name}/disable", summary="Stop a user signing in (admin)")
    def disable(name: str, request: Request, user: User = admin) -> dict[str, str]:
        run(lambda: ops.set_disabled(user, name, True, client_address(request.scope)))
        return {"name": name, "state": "disabled"}

    @router.post("/users/{name}/enable", summary="Let a user sign in again (admin)")
    def enable(name: str, request: Request, user: User = admin) -> dict[str, str]:
        run(lambda: ops.set_disabled(user, name, False, client_address(request.scope)))
        return {"name": name, "state": "enabled"}

    @router.get("/kiosk", summary="Wall-screen links (admin)")
    def kiosks(request: Request, user: User = admin) -> list[dict[str, Any]]:
        return run(lambda: ops.kiosk_links(user, client_address(request.scope)))

    @router.post("/kiosk", status_code=201, summary="Issue a wall-screen link (admin)")
    def issue(body: NewKiosk, request: Request, user: User = admin) -> dict[str, str]:
        token = run(lambda: ops.issue_kiosk(user, body.label, client_address(request.scope)))
        return {"path": f"/kiosk/{token}"}

    @router.delete("/kiosk/{token_id}", summary="Revoke a wall-screen link (admin)")
    def revoke(token_id: int, request: Request, user: User = admin) -> dict[str, int]:
        run(lambda: ops.revoke_kiosk(user, token_id, client_address(request.scope)))
        return {"revoked": token_id}

    return router
