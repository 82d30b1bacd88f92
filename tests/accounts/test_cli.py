"""`warroom user …`, `warroom token …`, `warroom audit …` and `warroom db …` from a shell."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update

from tests.conftest import CliResult, Person
from warroom.accounts import service
from warroom.audit.models import AuditEntry
from warroom.db.engine import Database
from warroom.db.uow import UnitOfWork

Cli = Callable[..., CliResult]


def test_creating_a_user_reads_the_password_from_stdin(run_cli: Cli) -> None:
    result = run_cli(
        "user",
        "create",
        "oncall@example.com",
        "--role",
        "responder",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.code == 0, result.err
    assert "created user oncall@example.com (responder)" in result.out
    listed = run_cli("user", "list")
    assert "oncall@example.com" in listed.out and "responder" in listed.out


def test_a_bad_role_is_a_usage_error(run_cli: Cli) -> None:
    result = run_cli("user", "create", "x@example.com", "--role", "wizard", "--password-stdin")
    assert result.code == 2 and "wizard" in result.err


def test_a_short_password_is_refused_naming_the_field(run_cli: Cli) -> None:
    result = run_cli(
        "user", "create", "x@example.com", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert result.code == 1 and "password" in result.err


def test_token_create_prints_only_the_token(
    run_cli: Cli, responder: Person, new_uow: Callable[[], UnitOfWork]
) -> None:
    result = run_cli("token", "create", responder.email, "--name", "ci")
    assert result.code == 0
    token = result.out.strip()
    assert result.out == token + "\n" and token.startswith("wr_")
    assert service.authenticate_token(new_uow(), secret=token).user_id == responder.id


def test_token_revoke_and_list(run_cli: Cli, responder: Person) -> None:
    run_cli("token", "create", responder.email, "--name", "ci")
    assert "ci" in run_cli("token", "list", responder.email).out
    revoked = run_cli("token", "revoke", "1")
    assert revoked.code == 0 and "revoked token 1" in revoked.out
    assert "revoked" in run_cli("token", "list").out


def test_disabling_an_unknown_user_is_a_clear_error(run_cli: Cli) -> None:
    result = run_cli("user", "disable", "ghost@example.com")
    assert result.code == 1 and "user ghost@example.com" in result.err


def test_audit_verify_passes_then_fails_naming_the_tampered_entry(
    run_cli: Cli, db: Database, responder: Person
) -> None:
    run_cli("user", "disable", responder.email)
    intact = run_cli("audit", "verify")
    assert intact.code == 0 and "audit chain intact: 2 entries verified" in intact.out
    with db.writer.begin() as connection:
        connection.execute(
            update(AuditEntry).where(AuditEntry.seq == 2).values(action="user.enable")
        )
    broken = run_cli("audit", "verify")
    assert broken.code == 1 and "seq=2" in broken.err and "edited" in broken.err


def test_audit_list_shows_newest_entries(run_cli: Cli, responder: Person) -> None:
    result = run_cli("audit", "list", "--action", "user.create")
    assert result.code == 0 and responder.email in result.out


def test_db_upgrade_is_idempotent(run_cli: Cli) -> None:
    result = run_cli("db", "upgrade")
    assert result.code == 0 and "nothing to do" in result.out
    assert "code:" in run_cli("db", "current").out
