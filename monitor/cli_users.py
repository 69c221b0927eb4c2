"""``ivmon users``, ``ivmon kiosk`` and ``ivmon audit``: accounts, wall-screen links, audit log."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from typing import Any

from monitor.accounts import AccountError, Accounts, Role
from monitor.audit import AuditLog
from monitor.storage.database import migrate, open_database
from monitor.storage.schema import from_ms


def register(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    users = sub.add_parser("users", help="manage who may sign in").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = users.add_parser("add", help="add a user (asks for the password, or reads it from stdin)")
    p.add_argument("name")
    p.add_argument("--role", required=True, choices=("viewer", "nurse", "admin"))
    add_common(p)
    p.set_defaults(func=cmd_add)
    p = users.add_parser("list", help="list users and their roles")
    add_common(p)
    p.set_defaults(func=cmd_list)
    for action, helptext in (("disable", "stop a user signing in (ends their sessions)"),
                             ("enable", "let a disabled user sign in again"),
                             ("set-password", "set a new password")):
        p = users.add_parser(action, help=helptext)
        p.add_argument("name")
        add_common(p)
        p.set_defaults(func=cmd_change, action_name=action)
    p = users.add_parser("token", help="issue an API token for a user (shown once)")
    p.add_argument("name")
    p.add_argument("--label", default="", help="what the token is for")
    add_common(p)
    p.set_defaults(func=cmd_token)

    kiosk = sub.add_parser("kiosk", help="read-only links for wall screens").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = kiosk.add_parser("add", help="issue a wall-screen link (shown once)")
    p.add_argument("label", help="which screen, e.g. 'nurses station wall'")
    p.add_argument("--url", default="", help="the station's address, e.g. https://ivmon.clinic")
    add_common(p)
    p.set_defaults(func=cmd_kiosk_add)
    p = kiosk.add_parser("list", help="list wall-screen links")
    add_common(p)
    p.set_defaults(func=cmd_kiosk_list)
    p = kiosk.add_parser("revoke", help="end a wall-screen link at once")
    p.add_argument("id", type=int)
    add_common(p)
    p.set_defaults(func=cmd_kiosk_revoke)

    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    p = audit.add_parser("verify", help="check that no entry was altered, removed or inserted")
    add_common(p)
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser("list", help="show the newest entries")
    p.add_argument("--limit", type=int, default=50)
    add_common(p)
    p.set_defaults(func=cmd_audit_list)


def _open(args: argparse.Namespace) -> tuple[Accounts, AuditLog, Any]:
    from monitor.cli_station import load_config

    config = load_config(args)
    db = open_database(config.database_url)
    migrate(db)
    return Accounts(db), AuditLog(db), config


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def read_password(prompt: str = "Password: ") -> str:
    """Ask twice on a terminal; read one line from stdin when piped."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise AccountError("The two passwords differ; nothing was changed.")
    return first


def cmd_add(args: argparse.Namespace) -> int:
    accounts, audit, _ = _open(args)
    user = accounts.add(args.name, Role.parse(args.role), read_password())
    audit.append(_actor(), "user added", user.name, {"role": args.role})
    print(f"Added {user.name} ({args.role}).")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    accounts, _, _ = _open(args)
    users = accounts.list()
    if not users:
        print("No users yet. Add the first administrator: ivmon users add NAME --role admin")
    for u in users:
        print(f"{u.name:24} {u.role.name.lower():8} {'disabled' if u.disabled else 'active'}")
    return 0


def cmd_change(args: argparse.Namespace) -> int:
    accounts, audit, _ = _open(args)
    if args.action_name == "set-password":
        accounts.set_password(args.name, read_password("New password: "))
    else:
        accounts.set_disabled(args.name, args.action_name == "disable")
    audit.append(_actor(), f"user {args.action_name}", args.name)
    print(f"{args.name}: {args.action_name} done.")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    accounts, audit, _ = _open(args)
    token = accounts.issue_token("api", user=args.name, label=args.label, created_by=_actor())
    audit.append(_actor(), "api token issued", args.name, {"label": args.label})
    print("API token (shown once; send it as 'Authorization: Bearer TOKEN'):")
    print(token)
    return 0


def cmd_kiosk_add(args: argparse.Namespace) -> int:
    accounts, audit, config = _open(args)
    token = accounts.issue_token("kiosk", label=args.label, created_by=_actor())
    audit.append(_actor(), "kiosk link issued", args.label)
    base = args.url.rstrip("/") or f"http://{config.host}:{config.port}"
    print(f"Open this link once on the wall screen '{args.label}' (shown once):")
    print(f"{base}/kiosk/{token}")
    return 0


def cmd_kiosk_list(args: argparse.Namespace) -> int:
    accounts, _, _ = _open(args)
    for t in accounts.tokens("kiosk"):
        state = "revoked" if t.revoked_ms else "active"
        print(f"{t.id:4}  {t.label:32} {state:8} issued {from_ms(t.created_ms):%Y-%m-%d %H:%M} "
              f"by {t.created_by}")
    return 0


def cmd_kiosk_revoke(args: argparse.Namespace) -> int:
    accounts, audit, _ = _open(args)
    accounts.revoke_token(args.id)
    audit.append(_actor(), "kiosk link revoked", str(args.id))
    print(f"Kiosk link {args.id} revoked; its screen stops within seconds.")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    _, audit, _ = _open(args)
    result = audit.verify()
    if result.ok:
        print(f"The audit log is intact: {result.entries} entries.")
        return 0
    print(f"The audit log has been tampered with: {result.problem}.", file=sys.stderr)
    return 1


def cmd_audit_list(args: argparse.Namespace) -> int:
    _, audit, _ = _open(args)
    for e in audit.entries(args.limit):
        print(f"{e['at']:%Y-%m-%d %H:%M:%S}  {e['actor']:20} {e['action']:22} {e['target']}"
              f"  {e['address']}")
    return 0


def demo_accounts(accounts: Accounts, env: dict[str, str] | None = None) -> tuple[str, bool]:
    """Create (or reset) the demo's admin, nurse and viewer; return the password and whether
    it was generated."""
    import secrets

    env = dict(os.environ) if env is None else env
    password = env.get("IVMON_DEMO_PASSWORD", "")
    generated = not password
    if generated:
        password = secrets.token_urlsafe(9)
    for name in ("admin", "nurse", "viewer"):
        if accounts.get(name) is None:
            accounts.add(name, Role.parse(name), password)
        else:
            accounts.set_password(name, password)
    return password, generated
