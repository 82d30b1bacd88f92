"""Fixtures shared by every test tier.

Storage: every test that uses `db` (directly or through `app`/`client`) gets its own fresh,
fully migrated database: SQLite by default, PostgreSQL when WARROOM_TEST_POSTGRES_URL holds a
server URL (see TestDatabases). Such tests are marked `storage`,
so CI can run exactly them again on PostgreSQL with `pytest -m storage`.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from warroom.accounts import service as accounts_service
from warroom.accounts.schemas import UserCreate
from warroom.actors import Actor, Role
from warroom.app import create_app
from warroom.cli import run
from warroom.clikit import CliState
from warroom.config import Settings
from warroom.db.engine import Database, make_engine, open_database
from warroom.db.migrate import head_revision, upgrade
from warroom.db.uow import UnitOfWork
from warroom.models import metadata

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "WARROOM_TEST_POSTGRES_URL"
TEST_SECRET = "test-secret-key-" + "0123456789abcdef" * 2
PASSWORD = "correct horse battery"


T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coroutine)` on a thread of its own.

    Why: Playwright's synchronous API (the browser tests) leaves an event loop running on the
    main thread of the worker, where `asyncio.run` then refuses to start.
    """
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(coroutine))
        except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="test-event-loop")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def _shared_dir() -> Path:
    configured = os.environ.get("WARROOM_SHARED_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ../shared folder with the real data sets; skip where it is absent."""
    path = _shared_dir()
    if not (path / "data").is_dir():
        pytest.skip(f"real data sets not available: {path / 'data'} does not exist")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.storage)


# --- databases ---------------------------------------------------------------------------


def _postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url or None


@dataclass
class TestDatabases:
    """How each test gets a fresh, migrated database.

    SQLite: a copy of a template file migrated once per worker. PostgreSQL: one migrated
    database per worker, emptied before each test (TRUNCATE … RESTART IDENTITY is about a
    hundred times faster than cloning a database per test, and just as isolating for tests
    that run one after another in a worker).
    """

    dialect: str
    location: str  # SQLite: template file; PostgreSQL: URL of the worker's database

    def fresh(self, target_dir: Path) -> str:
        if self.dialect == "sqlite":
            path = target_dir / "warroom.db"
            shutil.copyfile(self.location, path)
            return f"sqlite:///{path}"
        _empty_postgres(self.location)
        return self.location


def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            # Sessions still open on the worker's database belong to earlier tests (a live
            # server's background work finishing): ended first, they can neither deadlock
            # with the TRUNCATE nor see this test's data.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                {"head": head_revision(engine)},
            )
    finally:
        engine.dispose()


def _postgres_execute(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def test_databases(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[TestDatabases]:
    admin_url = _postgres_admin_url()
    if admin_url is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield TestDatabases("sqlite", str(path))
        return
    name = f"wr_test_{worker_id}_{os.getpid()}"
    _postgres_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _postgres_execute(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield TestDatabases("postgresql", url)
    _postgres_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(test_databases: TestDatabases, tmp_path: Path) -> str:
    return test_databases.fresh(tmp_path)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=TEST_SECRET,
        login_max_failures_per_account=3,
        login_max_failures_per_client=10,
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(settings)
    yield database
    database.dispose()


@pytest.fixture
def new_uow(db: Database) -> Callable[[], UnitOfWork]:
    """A factory of units of work: each service call takes a fresh one, as in production."""
    return lambda: UnitOfWork(db)


# --- people ------------------------------------------------------------------------------

SYSTEM = Actor.system("test")


@dataclass
class Person:
    """A user created through the service layer, with the Actor that represents them."""

    id: int
    email: str
    role: Role
    password: str

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.id, label=self.email, role=self.role)


@pytest.fixture
def make_person(new_uow: Callable[[], UnitOfWork]) -> Callable[..., Person]:
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.RESPONDER, email: str | None = None) -> Person:
        address = email or f"{role.value}{next(counter)}@example.com"
        data = UserCreate(email=address, display_name="", role=role, password=PASSWORD)
        user = accounts_service.create_user(new_uow(), SYSTEM, data=data)
        return Person(user.id, user.email, role, PASSWORD)

    return make


@pytest.fixture
def admin(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.ADMIN, "admin@example.com")


@pytest.fixture
def responder(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.RESPONDER, "responder@example.com")


@pytest.fixture
def viewer(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.VIEWER, "viewer@example.com")


# --- web ---------------------------------------------------------------------------------


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, database=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def token_for(new_uow: Callable[[], UnitOfWork]) -> Callable[[Person], str]:
    def make(person: Person) -> str:
        created = accounts_service.create_token(new_uow(), SYSTEM, user_id=person.id, name="tests")
        return created.token

    return make


@pytest.fixture
def api_as(
    app: FastAPI, token_for: Callable[[Person], str]
) -> Iterator[Callable[[Person], TestClient]]:
    """A client that sends `person`'s API token on every request."""
    clients: list[TestClient] = []

    def make(person: Person) -> TestClient:
        headers = {"Authorization": f"Bearer {token_for(person)}"}
        test_client = TestClient(app, base_url="http://testserver", headers=headers)
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        test_client.close()


def csrf_from(html: str) -> str:
    """The CSRF token embedded in a rendered page's forms."""
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def browser_login(client: TestClient) -> Callable[[Person], TestClient]:
    """Log `person` in through the login form; the client then carries the session cookie."""

    def login(person: Person) -> TestClient:
        form_page = client.get("/login")
        response = client.post(
            "/login",
            data={
                "csrf_token": csrf_from(form_page.text),
                "email": person.email,
                "password": person.password,
                "next": "/",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return client

    return login


# --- command line ------------------------------------------------------------------------


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(
    settings: Settings,
    db: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., CliResult]:
    """Run `warroom ARGS...` in-process against the test database."""

    def invoke(*args: str, stdin: str = "") -> CliResult:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = run(list(args), cli_state=CliState(_settings=settings, _db=db))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
