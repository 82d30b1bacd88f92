"""The three grouping stages against storage, run inside the delivery's transaction.

`apply_alert` takes one signal through identity (lock the key, find the open alert, count a
repeat or create it), correlation (`engines.alertgrouping.choose_group` over the groups that
could take it, with the dependency graph from the catalog) and opening
(`engines.alertgrouping.opening_decision`, which may open an incident through the incidents
domain). `evaluate_due_groups` is the same opening stage for time-based rules, run by the
ticker without a delivery. Locking is described in `warroom.intake.locks`.
"""

from __future__ import annotations

import functools
import itertools
import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    Integer,
    String,
    bindparam,
    case,
    column,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from warroom.actors import Actor
from warroom.catalog import queries as catalog_queries
from warroom.db.base import UTCDateTime
from warroom.db.prepared import (
    Prepared,
    execute_driver_sql,
    in_binds,
    in_chunks,
    postgres_array,
    postgres_time,
    send_ahead,
)
from warroom.db.transaction import before_commit, per_transaction
from warroom.engines import alertgrouping as grouping
from warroom.incidents import service as incidents
from warroom.intake.locks import (
    grouping_lock,
    identity_lock,
    identity_name,
    xact_locks,
)
from warroom.intake.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    GroupingRuleSet,
    Integration,
    MaintenanceWindow,
)
from warroom.intake.schemas import AcceptedAlert, TickReport
from warroom.integrations.signals import Action, AlertSignal, ChangeSignal

PENDING, OPEN, CLOSED, EXPIRED = "pending", "open", "closed", "expired"
ID_PREFIX = "#id:"
INTAKE_SOURCE = "alert intake"


@dataclass(frozen=True)
class Source:
    """The integration a delivery came through, read once per delivery without the ORM."""

    id: int
    kind: str
    name: str
    default_service: str
    mapping: dict[str, Any]
    max_body_bytes: int | None

    @classmethod
    def of(cls, row: Integration) -> Source:
        return cls(row.id, row.kind, row.name, row.default_service, row.mapping, row.max_body_bytes)


# What a `Source` is read from, plus when the integration was disabled.
_SOURCE_COLUMNS = (
    Integration.id,
    Integration.kind,
    Integration.name,
    Integration.default_service,
    Integration.mapping,
    Integration.max_body_bytes,
    Integration.disabled_at,
)

_FIND_SOURCE = Prepared(
    select(*_SOURCE_COLUMNS).where(Integration.credential_hash == bindparam("credential_hash"))
)


def find_source(session: Session, credential_hash: str) -> tuple[Source, bool] | None:
    """The integration holding this credential hash, and whether it is disabled.

    A prepared statement: this is on every delivery's path.
    """
    row = _FIND_SOURCE.first(session.connection(), {"credential_hash": credential_hash})
    if row is None:
        return None
    source = Source(row[0], row[1], row[2], row[3], row[4], row[5])
    return source, row[6] is not None


@dataclass
class Context:
    """What every stage needs: the transaction, who acts, and when."""

    session: Session
    actor: Actor
    now: datetime
    integration: Source | None = None

    def rules(self) -> grouping.Rules:
        return rules_in(self.session)

    def windows(self) -> list[grouping.MaintenanceWindow]:
        """Maintenance windows active now (all not yet ended are read once a transaction)."""
        unended = per_transaction(self.session, _WINDOWS, lambda s: unended_windows(s, self.now))
        return [w for w in unended if w.starts_at <= self.now < w.ends_at]


_RULES, _WINDOWS = "warroom.intake.rules", "warroom.intake.windows"


def rules_in(session: Session) -> grouping.Rules:
    """The live rules, read once per transaction."""
    return per_transaction(session, _RULES, load_rules)


_RULES_DOCUMENT = Prepared(select(GroupingRuleSet.document).where(GroupingRuleSet.id == 1))


def load_rules(session: Session) -> grouping.Rules:
    """The live rules, read in this transaction (parsed once per distinct document)."""
    session.flush()  # rules set in this transaction count
    return _rules_of_document(_RULES_DOCUMENT.scalar(session.connection()))


# The rules this process parsed last: only a guess, which `book_groups_of_batch` checks.
_RULES_SEEN_LAST: dict[str, tuple[str, grouping.Rules]] = {}


def _rules_of_document(document: Any) -> grouping.Rules:
    text = json.dumps(document, sort_keys=True)
    rules = _parsed_rules(text)
    _RULES_SEEN_LAST["rules"] = (text, rules)
    return rules


@functools.lru_cache(maxsize=8)
def _parsed_rules(document: str) -> grouping.Rules:
    # Why: each batch that correlates reads the rules; parsing them again cost more than
    # reading them. Keyed by the document itself, so a change is seen by the next read.
    return grouping.parse_rules(json.loads(document))


def lock_identities(
    session: Session, deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]]
) -> None:
    """Take the identity locks of every keyed alert about to be applied, in one fixed order.

    Why: a transaction that applies several alerts (an Alertmanager group, or a batch of
    deliveries) would otherwise lock keys in payload order and take the grouping lock in
    between, and two processes doing that with overlapping keys deadlock. Sorted, and all
    before any grouping lock, they queue instead. `apply_alert` locks its key again, which a
    holder of the lock passes at once.
    """
    xact_locks(session, identity_names(deliveries))


def identity_names(
    deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]],
) -> list[str]:
    """The identity lock names of every keyed alert in `deliveries`."""
    return [identity_name(source.id, key) for source, key in _keyed(deliveries)]


def _keyed(
    deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]],
) -> list[tuple[Source, str]]:
    return [
        (source, signal.dedup_key)
        for source, signals in deliveries
        for signal in signals
        if isinstance(signal, AlertSignal) and signal.dedup_key
    ]


def prefetch_open_alerts(
    session: Session, deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]]
) -> None:
    """Read the open alerts of every key in a batch, eight keys a query, for `_open_alert`.

    Valid while this transaction holds the keys' identity locks, except for what the batch
    itself changes: a key is forgotten when anything but a repeat happens to it, and all
    are forgotten when the general path runs (it may change any group).
    """
    already = _prefetched(session)
    wanted: dict[int, list[str]] = {}
    for source, key in _keyed(deliveries):
        if not key.startswith(ID_PREFIX) and (source.id, key) not in already:
            wanted.setdefault(source.id, []).append(key)
    known: dict[tuple[int, str], OpenAlert | None] = {}
    connection = session.connection()
    for integration_id, keys in wanted.items():
        unique = sorted(set(keys))
        for key in unique:
            known[(integration_id, key)] = None
        for chunk in in_chunks("key", _KEYS_PER_QUERY, unique):
            params = {"integration_id": integration_id, **chunk}
            for row in _OPEN_ALERTS.rows(connection, params):
                known[(integration_id, row[-1])] = OpenAlert(*row[:-1])
    _prefetched(session).update(known)


_OPEN_KNOWN_BATCH = Prepared(
    sql_text(
        "SELECT i.id, i.kind, i.name, i.default_service, i.mapping, i.max_body_bytes, "
        "i.disabled_at, a.id, a.group_id, a.incident_id, a.group_status, a.title, a.service, "
        "a.severity, a.open_key "
        f"FROM {Integration.__tablename__} AS i "
        "LEFT JOIN LATERAL ("
        f"SELECT {Alert.__tablename__}.*, g.status AS group_status FROM {Alert.__tablename__} "
        f"LEFT JOIN {AlertGroup.__tablename__} AS g ON g.id = {Alert.__tablename__}.group_id "
        f"WHERE {Alert.__tablename__}.integration_id = i.id "
        f"AND {Alert.__tablename__}.open_key = ANY(CAST(:open_keys AS text[]))"
        ") AS a ON true "
        "WHERE i.credential_hash = :credential_hash"
    ).columns(
        *_SOURCE_COLUMNS,
        column("alert_id", Integer),
        column("group_id", Integer),
        column("incident_id", Integer),
        column("group_status", String),
        column("title", String),
        column("service", String),
        column("severity", String),
        column("open_key", String),
    )
)


def open_known_batch(
    session: Session,
    credential_hash: str,
    expected: Source,
    deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]],
    *,
    guess: bool = True,
) -> bool:
    """One round trip for a batch from one integration: lock, read it and its open alerts.

    PostgreSQL only. Takes the batch's identity locks (in order, before anything else), then
    reads the integration holding `credential_hash` and its open alerts of the batch's keys,
    and returns whether the integration is the `expected` one (enabled); only then are the
    alerts kept for `_open_alert`, as `prefetch_open_alerts` keeps them.

    The locks and the read are two statements in one round trip (`Prepared.later`): the
    read's snapshot is taken once the locks are held, so it sees every change committed by
    whoever held them before, and it needs no row locks (which would cost a WAL record per
    alert, and could make the tick wait).

    A batch whose every alert this process saw after its last commit
    (`remember_open_alerts`: open in an open group, or with no open alert) skips the read
    (unless `guess` is false): it takes what it saw as known, and a check that fails the
    transaction unless all of it still holds (`warroom_require`, migration 0008) is sent
    ahead with the locks, its result read with the batch's next round trip: a batch of
    repeats is one round trip, one that resolves or adds alerts two. When the check fails,
    the caller redoes the batch without guessing (`is_stale_guess`).
    """
    xact_locks(session, identity_names(deliveries))
    guessed = _guessed_batch(expected, deliveries) if guess else None
    if guessed is not None:
        _require_guesses(session, credential_hash, expected, guessed)
        # The locks and the check go now, and the server takes and checks while the batch
        # is applied here; their results come back with the next round trip's.
        send_ahead(session.connection())
        _prefetched(session).update(guessed)
        return True
    keys = sorted({key for _, key in _keyed(deliveries) if not key.startswith(ID_PREFIX)})
    params = {"credential_hash": credential_hash, "open_keys": postgres_array(keys)}
    rows = _OPEN_KNOWN_BATCH.rows(session.connection(), params)
    if not rows:
        return False
    first = rows[0]
    if (Source(*first[:6]), first[6] is not None) != (expected, False):
        return False
    known: dict[tuple[int, str], OpenAlert | None] = {(expected.id, key): None for key in keys}
    for row in rows:
        if row[7] is not None:
            known[(expected.id, row[14])] = OpenAlert(*row[7:14])
    _prefetched(session).update(known)
    return True


# What this process last saw of alerts' keys, after each commit (the open alert in an open
# group, or None: no open alert): a guess, never trusted without the check in the same
# transaction (`_REQUIRE_GUESSES`). Several processes change alerts, so nothing else may
# rely on it.
_SEEN: dict[tuple[int, str], OpenAlert | None] = {}  # None: no open alert
_SEEN_MAX = 65_536
STALE_GUESS = "WR001"  # the SQLSTATE `warroom_require` raises
# The check finds its rows by primary key (`id = ANY(...)`), as `_WRITE_HELD_POSTGRESQL`
# does: joined only with `unnest`, its plan, made once per connection and kept, hashed the
# whole alerts table once that was small when planned, a fifth of PostgreSQL's time for a
# batch of repeats.
_REQUIRE_GUESSES = f"""
SELECT warroom_require(
    EXISTS (
        SELECT 1 FROM {Integration.__tablename__} AS i
        WHERE i.id = %(integration_id)s::integer AND i.credential_hash = %(credential_hash)s
          AND i.disabled_at IS NULL AND i.kind = %(kind)s AND i.name = %(name)s
          AND i.default_service = %(default_service)s
          AND i.max_body_bytes IS NOT DISTINCT FROM %(max_body_bytes)s::integer
          AND i.mapping::jsonb = %(mapping)s::jsonb
    ) AND (
        SELECT count(*)
        FROM unnest(%(alert_ids)s::integer[], %(open_keys)s::text[], %(group_ids)s::integer[],
                    %(incident_ids)s::integer[]) AS v(id, open_key, group_id, incident_id)
        JOIN {Alert.__tablename__} AS a ON a.id = v.id
        JOIN {AlertGroup.__tablename__} AS g ON g.id = a.group_id
        WHERE a.id = ANY(%(alert_ids)s::integer[]) AND g.id = ANY(%(group_ids)s::integer[])
          AND a.integration_id = %(integration_id)s::integer AND a.open_key = v.open_key
          AND a.group_id = v.group_id AND a.incident_id IS NOT DISTINCT FROM v.incident_id
          AND g.status = '{OPEN}'
    ) = %(count)s::integer AND NOT EXISTS (
        SELECT 1 FROM {Alert.__tablename__} AS a
        WHERE a.integration_id = %(integration_id)s::integer
          AND a.open_key = ANY(%(absent_keys)s::text[])
    ),
    'an alert this process saw has changed since'
)
"""


def _guessed_batch(
    source: Source, deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]]
) -> dict[tuple[int, str], OpenAlert | None] | None:
    """What this process saw of every key of a batch of triggers and resolves, or None."""
    guessed: dict[tuple[int, str], OpenAlert | None] = {}
    for _, signals in deliveries:
        for signal in signals:
            if not isinstance(signal, AlertSignal) or signal.action is Action.ACKNOWLEDGE:
                return None
            key = signal.dedup_key
            if not key or key.startswith(ID_PREFIX) or (source.id, key) not in _SEEN:
                return None
            guessed[(source.id, key)] = _SEEN[(source.id, key)]
    return guessed or None


def _require_guesses(
    session: Session,
    credential_hash: str,
    source: Source,
    guessed: dict[tuple[int, str], OpenAlert | None],
) -> None:
    seen = [(key, alert) for (_, key), alert in guessed.items() if alert is not None]
    absent = [key for (_, key), alert in guessed.items() if alert is None]
    execute_driver_sql(
        session.connection(),
        _REQUIRE_GUESSES,
        {
            "integration_id": source.id,
            "credential_hash": credential_hash,
            "kind": source.kind,
            "name": source.name,
            "default_service": source.default_service,
            "max_body_bytes": source.max_body_bytes,
            "mapping": json.dumps(source.mapping),
            "alert_ids": postgres_array(alert.id for _, alert in seen),
            "open_keys": postgres_array(key for key, _ in seen),
            "group_ids": postgres_array(alert.group_id for _, alert in seen),
            "incident_ids": postgres_array(alert.incident_id for _, alert in seen),
            "count": len(seen),
            "absent_keys": postgres_array(absent),
        },
        later=True,  # sent ahead with the locks by `open_known_batch`
    )


def open_alerts_seen(session: Session) -> dict[tuple[int, str], OpenAlert | None] | None:
    """What this transaction knows of its keys' open alerts, for `remember_open_alerts`;
    None on SQLite, where batches never guess."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return dict(_prefetched(session))


def remember_open_alerts(
    seen: dict[tuple[int, str], OpenAlert | None] | None, keys: Collection[tuple[int, str]]
) -> None:
    """After a commit: remember `keys` whose alert was open in an open group, and those known
    to have no open alert (resolved by the batch); forget the others."""
    if seen is None:
        return
    if len(_SEEN) >= _SEEN_MAX:
        _SEEN.clear()
    for key in keys:
        alert = seen.get(key, _UNKNOWN)
        if alert is None or (isinstance(alert, OpenAlert) and alert.group_status == OPEN):
            _SEEN[key] = alert
        else:
            _SEEN.pop(key, None)


def forget_open_alerts(keys: Collection[tuple[int, str]]) -> None:
    for key in keys:
        _SEEN.pop(key, None)


def is_stale_guess(error: BaseException) -> bool:
    """Whether `error` is `warroom_require` failing a batch that guessed (see above)."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == STALE_GUESS


def batch_keys(
    deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]],
) -> list[tuple[int, str]]:
    return [(source.id, key) for source, key in _keyed(deliveries)]


def _prefetched(session: Session) -> dict[tuple[int, str], OpenAlert | None]:
    return per_transaction(session, "warroom.intake.open_alerts", lambda _: {})


def apply_alert(ctx: Context, signal: AlertSignal) -> AcceptedAlert:
    """Run one alert signal through the stages; returns what happened to it."""
    assert ctx.integration is not None
    key = signal.dedup_key or uuid.uuid4().hex
    identity_lock(ctx.session, ctx.integration.id, key)
    handled = _apply_common_case(ctx, signal, key)
    if handled is not None:
        return handled
    _prefetched(ctx.session).clear()
    alert = _find_open(ctx, key)
    if signal.action is Action.TRIGGER:
        if alert is None:
            alert = _create(ctx, signal, key)
            _correlate(ctx, alert)
            return AcceptedAlert(
                alert_id=alert.id, dedup_key=key, outcome="created", incident_id=alert.incident_id
            )
        _repeat(ctx, alert)
        outcome = "repeated"
    elif alert is None:
        return AcceptedAlert(alert_id=None, dedup_key=key, outcome="ignored")
    elif signal.action is Action.ACKNOWLEDGE:
        _acknowledge(ctx, alert)
        outcome = "acknowledged"
    else:
        _resolve(ctx, alert)
        outcome = "resolved"
    return AcceptedAlert(
        alert_id=alert.id, dedup_key=alert.dedup_key, outcome=outcome, incident_id=alert.incident_id
    )


def _apply_common_case(ctx: Context, signal: AlertSignal, key: str) -> AcceptedAlert | None:
    """Repeats, resolves and new alerts of groups whose incident is open, or None.

    In an alert storm nearly every signal is one of these, and they take plain statements
    built once instead of ORM objects; everything else takes the general path.
    """
    found = None
    if signal.dedup_key and not key.startswith(ID_PREFIX):
        found = _open_alert(ctx, key)
        if found is not None and found.group_status == OPEN and signal.action is Action.TRIGGER:
            return _repeat_in_open_incident(ctx, key, found)
    assert ctx.integration is not None
    _prefetched(ctx.session).pop((ctx.integration.id, key), None)
    handled = None
    if found is not None and found.group_status == OPEN and signal.action is Action.RESOLVE:
        handled = _resolve_in_open_group(ctx, key, found)
    elif found is None and signal.action is Action.TRIGGER:
        handled = _create_in_open_group(ctx, signal, key)
    if handled is None:
        write_pending(ctx.session)  # the general path reads and writes through the ORM
    return handled


# --- stage 1: identity ---------------------------------------------------------------------


def _find_open(ctx: Context, key: str) -> Alert | None:
    assert ctx.integration is not None
    query = select(Alert).where(Alert.integration_id == ctx.integration.id)
    if key.startswith(ID_PREFIX) and key.removeprefix(ID_PREFIX).isdigit():
        query = query.where(
            Alert.id == int(key.removeprefix(ID_PREFIX)), Alert.open_key.is_not(None)
        )
    else:
        query = query.where(Alert.open_key == key)
    return ctx.session.scalars(query).first()


def _latest(column: Any, value: Any) -> Any:
    """The later of a stored time and a new one (GREATEST, spelt for every dialect)."""
    return case((column > value, column), else_=value)


_OPEN_ALERT_COLUMNS = (
    Alert.id, Alert.group_id, Alert.incident_id, AlertGroup.status, Alert.title, Alert.service,
    Alert.severity,
)  # fmt: skip
_OPEN_ALERT_IN_GROUP = Prepared(
    select(*_OPEN_ALERT_COLUMNS)
    .outerjoin(AlertGroup, AlertGroup.id == Alert.group_id)
    .where(Alert.integration_id == bindparam("integration_id"), Alert.open_key == bindparam("key"))
)
_KEYS_PER_QUERY = 8
_OPEN_ALERTS = Prepared(
    select(*_OPEN_ALERT_COLUMNS, Alert.open_key)
    .outerjoin(AlertGroup, AlertGroup.id == Alert.group_id)
    .where(
        Alert.integration_id == bindparam("integration_id"),
        Alert.open_key.in_(in_binds("key", _KEYS_PER_QUERY)),
    )
)
# Held repeats may be written after a resolve of the same alert, or a join of the same group,
# that came later in the batch: counts add up in any order, and times keep the latest.
_COUNT_ALERT_REPEATS = Prepared(
    update(Alert)
    .where(Alert.id == bindparam("alert_id"))
    .values(
        occurrences=Alert.occurrences + bindparam("count"),
        last_seen_at=_latest(Alert.last_seen_at, bindparam("now", type_=UTCDateTime)),
    )
)
_GROUP_REPEATS = (
    update(AlertGroup)
    .where(AlertGroup.id == bindparam("group_id"))
    .values(
        occurrences=AlertGroup.occurrences + bindparam("count"),
        last_at=_latest(AlertGroup.last_at, bindparam("now", type_=UTCDateTime)),
    )
)
_COUNT_GROUP_REPEATS = Prepared(_GROUP_REPEATS)
_WRITE_BOOKED_GROUP = Prepared(  # a group the batch also changed (`GroupBook`)
    _GROUP_REPEATS.values(
        firing=bindparam("firing"),
        services=bindparam("services", type_=AlertGroup.services.type),
    )
)
_RESOLVE_HELD = Prepared(
    update(Alert)
    .where(Alert.id == bindparam("alert_id"))
    .values(
        status=grouping.RESOLVED,
        open_key=None,
        resolved_at=bindparam("now"),
        last_seen_at=_latest(Alert.last_seen_at, bindparam("now", type_=UTCDateTime)),
    )
)
_RECORD_EVENT = Prepared(
    insert(AlertEvent).values(
        alert_id=bindparam("alert_id"), at=bindparam("now"), action=bindparam("action")
    )
)
# PostgreSQL: all of a batch's held writes in one statement, with arrays for parameters.
# Why: executemany costs a bound execution per row, both in psycopg and in the server (half
# the server's work on a batch of repeats); one statement with arrays costs about one.
# Group rows are locked in id order (the batch's alert rows are covered by identity locks),
# so two batches counting repeats of the same groups queue instead of deadlocking. The
# `id = ANY(...)` conditions let the planner find the rows by primary key: joined only with
# `unnest`, it read the whole table. A group's firing count and services are NULL in the
# arrays unless the batch changed them (`GroupBook`), an alert's resolve time unless the
# batch resolved it.
_WRITE_HELD_POSTGRESQL = f"""
WITH counted_alerts AS (
    UPDATE {Alert.__tablename__} AS a
    SET occurrences = a.occurrences + v.n, last_seen_at = GREATEST(a.last_seen_at, v.at),
        status = CASE WHEN v.resolved_at IS NULL THEN a.status ELSE '{grouping.RESOLVED}' END,
        open_key = CASE WHEN v.resolved_at IS NULL THEN a.open_key END,
        resolved_at = COALESCE(v.resolved_at, a.resolved_at)
    FROM unnest(%(alert_ids)s::integer[], %(alert_counts)s::integer[],
                %(alert_ats)s::text[]::timestamptz[],
                %(alert_resolved_ats)s::text[]::timestamptz[]) AS v(id, n, at, resolved_at)
    WHERE a.id = ANY(%(alert_ids)s::integer[]) AND a.id = v.id
), locked_groups AS (
    SELECT id FROM {AlertGroup.__tablename__}
    WHERE id = ANY(%(group_ids)s::integer[]) ORDER BY id FOR UPDATE
), counted_groups AS (
    UPDATE {AlertGroup.__tablename__} AS g
    SET occurrences = g.occurrences + v.n, last_at = GREATEST(g.last_at, v.at),
        firing = COALESCE(v.firing, g.firing), services = COALESCE(v.services::json, g.services)
    FROM locked_groups AS l,
         unnest(%(group_ids)s::integer[], %(group_counts)s::integer[],
                %(group_ats)s::text[]::timestamptz[], %(group_firing)s::integer[],
                %(group_services)s::text[]) AS v(id, n, at, firing, services)
    WHERE g.id = ANY(%(group_ids)s::integer[]) AND g.id = l.id AND g.id = v.id
)
INSERT INTO {AlertEvent.__tablename__} (alert_id, at, action)
SELECT e.alert_id, e.at, e.action
FROM unnest(%(event_alerts)s::integer[], %(event_ats)s::text[]::timestamptz[],
            %(event_actions)s::varchar[]) WITH ORDINALITY AS e(alert_id, at, action, n)
ORDER BY e.n
"""


@dataclass(frozen=True)
class OpenAlert:
    """An open alert's ids, the status of its group (None when in no group), and what its
    timeline entries say of it."""

    id: int
    group_id: int | None
    incident_id: int | None
    group_status: str | None
    title: str
    service: str
    severity: str


def _open_alert(ctx: Context, key: str) -> OpenAlert | None:
    assert ctx.integration is not None
    known = _prefetched(ctx.session)
    if (ctx.integration.id, key) in known:
        return known[(ctx.integration.id, key)]
    ctx.session.flush()  # pending ORM changes first, so statements below see and win over them
    params = {"integration_id": ctx.integration.id, "key": key}
    row = _OPEN_ALERT_IN_GROUP.first(ctx.session.connection(), params)
    return OpenAlert(*row) if row is not None else None


def _repeat_in_open_incident(ctx: Context, key: str, found: OpenAlert) -> AcceptedAlert:
    """The commonest case, a repeat of an alert whose group's incident is open.

    Same effect as `_repeat` for that case, but its three writes (count on the alert, count
    on the group, the event) wait in the session and are written for all such repeats at
    once by `write_pending`, at the commit or before the general path runs. The resolve and
    new-alert fast paths do not wait for them: counts add up and times keep the latest in
    either order, and a group the batch reads gets the latest time of its held repeats
    (`GroupBook`). Intake throughput is mostly repeats, since Alertmanager re-notifies every
    alert of a group.
    """
    pending = _pending_writes(ctx.session)
    pending.alerts.append({"alert_id": found.id, "now": ctx.now})
    pending.groups.append({"group_id": found.group_id, "now": ctx.now})
    pending.events.append({"alert_id": found.id, "now": ctx.now, "action": "repeat"})
    booked = pending.book.groups.get(found.group_id or _NO_GROUP_ID)
    if booked is not None:
        booked.last_at = max(booked.last_at, ctx.now)
    return AcceptedAlert(
        alert_id=found.id, dedup_key=key, outcome="repeated", incident_id=found.incident_id
    )


@dataclass
class PendingWrites:
    """Writes held back for a batch: parameters in call order, and the batch's group book.

    Repeat counts, resolves, and the events of every alert taken by a fast path (repeats,
    resolves, new alerts): nothing in the transaction reads alert events, the fast paths
    append theirs here and the general path writes these first, so events keep the order in
    which the alerts were applied. A resolved alert's key is known to have no open alert
    (`_prefetched`), and resolves are written before anything that reads alerts or could
    reuse the key (`write_held_resolves`).
    """

    alerts: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    resolves: list[dict[str, Any]] = field(default_factory=list)  # alert id, time
    book: GroupBook = field(default_factory=lambda: GroupBook())


def _pending_writes(session: Session) -> PendingWrites:
    return per_transaction(session, "warroom.intake.pending_writes", _new_pending_writes)


def _new_pending_writes(session: Session) -> PendingWrites:
    before_commit(session, "warroom.intake.pending_writes", _write_pending_at_commit)
    return PendingWrites()


def _write_pending_at_commit(session: Session) -> None:
    write_pending(session, committing=True)


def write_pending(session: Session, *, committing: bool = False) -> None:
    """Send the repeat counts, group changes and alert events that the fast paths kept back.

    Unless the transaction is about to commit, the grouping lock is taken first: whatever
    comes next may need it, and holding the rows these statements lock while waiting for
    it could deadlock with another batch that holds it and waits for one of those rows.
    The group book is emptied: what comes next works on the database.
    """
    pending = _pending_writes(session)
    booked = [group for group in pending.book.groups.values() if group.changed]
    pending.book = GroupBook()
    if not pending.events and not booked and not pending.resolves:
        return
    if not committing:
        grouping_lock(session)
    alerts = _alert_writes(_counted(pending.alerts, "alert_id"), pending.resolves)
    groups = _group_writes(_counted(pending.groups, "group_id"), booked)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Arrays go as literals, times in them as ISO 8601 text (see `postgres_array`). Sent
        # with the next statement, at the latest with the COMMIT: a round trip saved.
        execute_driver_sql(
            connection,
            _WRITE_HELD_POSTGRESQL,
            {
                "alert_ids": postgres_array(alert.id for alert in alerts),
                "alert_counts": postgres_array(alert.added for alert in alerts),
                "alert_ats": postgres_array(postgres_time(alert.at) for alert in alerts),
                "alert_resolved_ats": postgres_array(
                    None if alert.resolved_at is None else postgres_time(alert.resolved_at)
                    for alert in alerts
                ),
                "group_ids": postgres_array(group.id for group in groups),
                "group_counts": postgres_array(group.added for group in groups),
                "group_ats": postgres_array(postgres_time(group.at) for group in groups),
                "group_firing": postgres_array(group.firing for group in groups),
                "group_services": postgres_array(
                    None if group.services is None else json.dumps(group.services)
                    for group in groups
                ),
                "event_alerts": postgres_array(event["alert_id"] for event in pending.events),
                "event_ats": postgres_array(
                    postgres_time(event["now"]) for event in pending.events
                ),
                "event_actions": postgres_array(event["action"] for event in pending.events),
            },
            later=True,
        )
    else:
        _RESOLVE_HELD.many(connection, pending.resolves)
        _COUNT_ALERT_REPEATS.many(
            connection,
            [{"alert_id": a.id, "count": a.added, "now": a.at} for a in alerts if a.added],
        )
        _COUNT_GROUP_REPEATS.many(
            connection,
            [
                {"group_id": group.id, "count": group.added, "now": group.at}
                for group in groups
                if group.firing is None
            ],
        )
        _WRITE_BOOKED_GROUP.many(
            connection,
            [
                {
                    "group_id": group.id,
                    "count": group.added,
                    "now": group.at,
                    "firing": group.firing,
                    "services": group.services,
                }
                for group in groups
                if group.firing is not None
            ],
        )
        _RECORD_EVENT.many(connection, pending.events)
    for alert in alerts:
        _forget_loaded(session, Alert, alert.id)
    for group in groups:
        _forget_loaded(session, AlertGroup, group.id)
    pending.alerts, pending.groups, pending.events, pending.resolves = [], [], [], []


def write_held_resolves(session: Session) -> None:
    """Write the resolves the fast path kept back, alone: before a read of alerts' statuses,
    or an insert that may reuse a resolved alert's key."""
    pending = _pending_writes(session)
    if pending.resolves:
        # Sent with what comes next, which is what needed them written.
        _RESOLVE_HELD.many(session.connection(), pending.resolves, later=True)
        for resolve in pending.resolves:
            _forget_loaded(session, Alert, resolve["alert_id"])
        pending.resolves = []


class _AlertWrite(NamedTuple):
    """One alert's held changes: repeats to add, the latest time, and its resolve time."""

    id: int
    added: int
    at: datetime
    resolved_at: datetime | None


def _alert_writes(
    repeats: Sequence[tuple[int, int, datetime]], resolves: Sequence[dict[str, Any]]
) -> list[_AlertWrite]:
    """Repeat counts and resolves merged per alert, in id order."""
    writes = {alert_id: _AlertWrite(alert_id, n, at, None) for alert_id, n, at in repeats}
    for resolve in resolves:
        alert_id, at = resolve["alert_id"], resolve["now"]
        counted = writes.get(alert_id)
        latest = max(at, counted.at) if counted else at
        writes[alert_id] = _AlertWrite(alert_id, counted.added if counted else 0, latest, at)
    return [writes[alert_id] for alert_id in sorted(writes)]


class _GroupWrite(NamedTuple):
    """One group's held changes: occurrences to add, the latest time, and (if changed by
    the batch) its firing count and services."""

    id: int
    added: int
    at: datetime
    firing: int | None
    services: list[Any] | None


def _group_writes(
    repeats: Sequence[tuple[int, int, datetime]], booked: Sequence[BookedGroup]
) -> list[_GroupWrite]:
    """Repeat counts and book changes merged per group, in id order."""
    writes = {
        group_id: _GroupWrite(group_id, count, at, None, None) for group_id, count, at in repeats
    }
    for group in booked:
        counted = writes.get(group.id)
        count = group.joined + (counted.added if counted else 0)
        at = max(group.last_at, counted.at) if counted else group.last_at
        writes[group.id] = _GroupWrite(group.id, count, at, group.firing, list(group.services))
    return [writes[group_id] for group_id in sorted(writes)]


@dataclass
class BookedGroup:
    """A live group as a transaction holding the grouping lock knows it, with its changes.

    A `GroupRow`. `joined`, `firing`, `services` and `last_at` changes are written by
    `write_pending`; `changed` says whether firing or services must be written.
    """

    id: int
    rule: str
    group_key: str
    services: list[Any]
    status: str
    first_at: datetime
    last_at: datetime
    firing: int
    incident_id: int | None
    joined: int = 0
    changed: bool = False


_BOOKED_COLUMNS = (
    "id", "rule", "group_key", "services", "status", "first_at", "last_at", "firing",
    "incident_id",
)  # fmt: skip


@dataclass
class GroupBook:
    """The live groups a batch's fast paths read, read at most once, under the grouping lock.

    Why: resolves and new alerts each read their group (and its incident's status) and wrote
    it back, two or three statements per alert; a batch now reads the groups of all its
    resolves and new alerts in a query or two, changes them here, and writes them with its
    held repeats. Valid only while the transaction holds the grouping lock: group firing
    counts, services and statuses change only under it; other transactions' repeats add to
    counts and times without it, which the writes add to rather than overwrite. An
    incident's status can change without it (its commander resolves it): the book reads it
    once per batch, where each alert used to read it, and a change committed meanwhile is
    seen by the next batch, as it was by the next alert. The general path works on the
    database, so the book is written and emptied before it runs.
    """

    groups: dict[int, BookedGroup] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)  # keys whose live groups are all in `groups`
    accepting: dict[int, bool] = field(default_factory=dict)  # incident -> accepts alerts


_GROUPS_PER_QUERY = 8
_LIVE_GROUPS = Prepared(
    select(
        *(getattr(AlertGroup, name) for name in _BOOKED_COLUMNS),
        incidents.accepts_alerts(AlertGroup.incident_id),
    ).where(
        or_(AlertGroup.status == PENDING, AlertGroup.status == OPEN),
        or_(
            AlertGroup.id.in_(in_binds("id", _GROUPS_PER_QUERY)),
            AlertGroup.group_key.in_(in_binds("key", _GROUPS_PER_QUERY)),
        ),
    )
)
_NO_GROUP_ID, _NO_GROUP_KEY = 0, ""  # fill an empty list: ids start at 1, keys are not empty


def _book_groups(session: Session, ids: Collection[int], keys: Collection[str]) -> GroupBook:
    """The book, with the live groups of `ids` and all live groups of `keys` in it.

    Takes the grouping lock first. Groups already in the book keep their changes; a group
    read now gets the later time of any repeat of it this batch holds. Whether each group's
    incident accepts alerts comes with it.
    """
    grouping_lock(session)
    pending = _pending_writes(session)
    book = pending.book
    wanted_ids = sorted({i for i in ids if i not in book.groups})
    wanted_keys = sorted(set(keys) - book.keys)
    if not wanted_ids and not wanted_keys:
        return book
    session.flush()
    connection = session.connection()
    held_at: dict[int, datetime] = {}
    for repeat in pending.groups:
        held_at[repeat["group_id"]] = max(
            repeat["now"], held_at.get(repeat["group_id"], repeat["now"])
        )
    no_ids = next(in_chunks("id", _GROUPS_PER_QUERY, [_NO_GROUP_ID]))
    no_keys = next(in_chunks("key", _GROUPS_PER_QUERY, [_NO_GROUP_KEY]))
    for id_chunk, key_chunk in itertools.zip_longest(
        in_chunks("id", _GROUPS_PER_QUERY, wanted_ids),
        in_chunks("key", _GROUPS_PER_QUERY, wanted_keys),
    ):
        params = {**(id_chunk or no_ids), **(key_chunk or no_keys)}
        for *columns, accepting in _LIVE_GROUPS.rows(connection, params):
            if columns[0] in book.groups:
                continue
            group = BookedGroup(*columns)
            group.services = list(group.services)
            if group.id in held_at:
                group.last_at = max(group.last_at, held_at[group.id])
            book.groups[group.id] = group
            if group.incident_id is not None:
                book.accepting.setdefault(group.incident_id, bool(accepting))
    book.keys.update(wanted_keys)
    return book


def book_groups_of_batch(
    session: Session,
    deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]],
    at: datetime,
) -> None:
    """Read at once what a batch's resolves and new alerts will need, if it has any.

    After `prefetch_open_alerts`: a resolve of an open alert needs its group, a trigger of a
    key with no open alert the live groups of its group key, the maintenance windows not
    ended at `at` (no later than the batch's own times) and, on PostgreSQL, an id. All of it
    is read in one round trip with the groups: a group key depends on the rules, so the
    rules this process read last are a guess, checked against the rules read in the same
    round trip (a changed rule set books the keys it gives in one more). Only a warm-up:
    each alert still finds (or reads) what it needs itself, so a wrong guess costs a query,
    no more.
    """
    ids, new_alerts = _needs_of_batch(_prefetched(session), deliveries)
    if not new_alerts:
        if ids:
            _book_groups(session, ids, [])
        return
    connection = session.connection()
    guess = _RULES_SEEN_LAST.get("rules")
    document = _RULES_DOCUMENT.soon(connection) if guess is not None else None
    windows = _UNENDED_WINDOWS.soon(connection, {"at": at})
    reserved = None
    if connection.dialect.name == "postgresql":
        reserved = _RESERVE_ALERT_IDS.soon(connection, {"count": len(new_alerts)})
    rules = guess[1] if guess is not None else rules_in(session)
    _book_groups(session, ids, _group_keys(rules, new_alerts))
    if document is not None:
        actual = _rules_of_document(document.scalar())
        per_transaction(session, _RULES, lambda _: actual)
        if actual is not rules:
            _book_groups(session, [], _group_keys(actual, new_alerts))
    per_transaction(session, _WINDOWS, lambda _: _windows_of(windows.rows()))
    if reserved is not None:
        _keep_reserved_alert_ids(session, reserved.rows())


def _needs_of_batch(
    known: dict[tuple[int, str], OpenAlert | None],
    deliveries: Sequence[tuple[Source, Sequence[AlertSignal | ChangeSignal]]],
) -> tuple[set[int], list[grouping.AlertFacts]]:
    """The groups of a batch's resolves of open alerts, and the facts of its new alerts."""
    ids: set[int] = set()
    new_alerts: list[grouping.AlertFacts] = []
    for source, signals in deliveries:
        for signal in signals:
            if not isinstance(signal, AlertSignal) or not signal.dedup_key:
                continue
            found = known.get((source.id, signal.dedup_key), _UNKNOWN)
            if found is _UNKNOWN:
                continue
            if isinstance(found, OpenAlert):
                if found.group_status == OPEN and signal.action is Action.RESOLVE:
                    ids.add(found.group_id or _NO_GROUP_ID)
            elif signal.action is Action.TRIGGER:
                new_alerts.append(_facts_of_signal(source, signal))
    return ids, new_alerts


def _group_keys(rules: grouping.Rules, alerts: Sequence[grouping.AlertFacts]) -> set[str]:
    return {grouping.group_key(rules.rule_for(f.service, f.labels), f) for f in alerts}


_UNKNOWN = object()


def _facts_of_signal(source: Source, signal: AlertSignal) -> grouping.AlertFacts:
    """What correlation knows of a new alert; `_new_alert_values` stores the same title,
    severity and service."""
    labels = {str(k): str(v) for k, v in signal.labels.items()}
    service = (signal.service or source.default_service)[:100]
    return grouping.AlertFacts(
        service, labels, signal.severity, (signal.title or "Untitled alert")[:500]
    )


def _counted(repeats: Sequence[dict[str, Any]], id_name: str) -> list[tuple[int, int, datetime]]:
    """Repeats per row, in id order: (id, how many, the latest time)."""
    counted: dict[int, tuple[int, datetime]] = {}
    for repeat in repeats:
        row_id, at = repeat[id_name], repeat["now"]
        count, latest = counted.get(row_id, (0, at))
        counted[row_id] = (count + 1, max(latest, at))
    return [(row_id, count, at) for row_id, (count, at) in sorted(counted.items())]


_INSERTED_ALERT_COLUMNS = (
    "integration_id", "dedup_key", "open_key", "title", "severity", "service", "source",
    "labels", "details", "links", "status", "started_at", "first_seen_at", "last_seen_at",
    "resolved_at", "occurrences", "suppressed", "group_id", "incident_id",
)  # fmt: skip
_INSERT_ALERT = Prepared(
    insert(Alert)
    .values({name: bindparam(name) for name in _INSERTED_ALERT_COLUMNS})
    .returning(Alert.id)
)


_INSERT_ALERT_WITH_ID = Prepared(
    insert(Alert).values({name: bindparam(name) for name in ("id", *_INSERTED_ALERT_COLUMNS)})
)
_RESERVE_ALERT_IDS = Prepared(
    sql_text(
        f"SELECT nextval(pg_get_serial_sequence('{Alert.__tablename__}', 'id')) "
        "FROM generate_series(1, CAST(:count AS integer))"
    ).columns(column("id", Integer))
)


def _insert_alert(session: Session, values: dict[str, Any]) -> int:
    """Insert a new alert; its id.

    On PostgreSQL the id comes from ids the batch reserved, as many at once as it may
    create alerts (this one and the keys it found no open alert for), and the insert
    travels with the next statement: an alert storm's new alerts cost one round trip per
    batch, not one each. An unused reserved id is a gap in the sequence, as a rolled-back
    insert leaves.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        alert_id: int = _INSERT_ALERT.scalar(connection, values)
        return alert_id
    reserved = _reserved_alert_ids(session)
    if not reserved:
        # This alert's key may be forgotten already: it counts apart.
        count = 1 + sum(1 for known in _prefetched(session).values() if known is None)
        _keep_reserved_alert_ids(session, _RESERVE_ALERT_IDS.rows(connection, {"count": count}))
    alert_id = reserved.pop()
    _INSERT_ALERT_WITH_ID.later(connection, {**values, "id": alert_id})
    return alert_id


def _resolve_in_open_group(ctx: Context, key: str, found: OpenAlert) -> AcceptedAlert | None:
    """A resolve of an alert whose group has opened its incident, in plain statements.

    Same effect as `_resolve` for that case; the alert's resolve is held with the batch's
    other writes, and the group's firing count and time change in the book (`GroupBook`).
    Returns None, having changed nothing, when the group is no longer
    open once locked: then the general path decides.
    """
    assert ctx.integration is not None
    session = ctx.session
    group_id = found.group_id or _NO_GROUP_ID
    group = _book_groups(session, [group_id], []).groups.get(group_id)
    if group is None or group.status != OPEN:
        return None
    pending = _pending_writes(session)
    pending.resolves.append({"alert_id": found.id, "now": ctx.now})
    pending.events.append({"alert_id": found.id, "now": ctx.now, "action": "resolve"})
    _prefetched(session)[(ctx.integration.id, key)] = None  # the key is free from now on
    group.firing = max(0, group.firing - 1)
    group.last_at = max(group.last_at, ctx.now)
    group.changed = True
    if group.incident_id is not None:
        text = f"Alert resolved at source: {found.title}"
        _timeline(ctx, group.incident_id, text, found.id, found.service, found.severity)
        if group.firing == 0:  # while this group still fires, the incident has unresolved alerts
            write_held_resolves(session)
            _note_when_all_resolved(ctx, group.incident_id)
    return AcceptedAlert(
        alert_id=found.id, dedup_key=key, outcome="resolved", incident_id=found.incident_id
    )


def _create_in_open_group(ctx: Context, signal: AlertSignal, key: str) -> AcceptedAlert | None:
    """A new alert that joins a group whose incident is open, in plain statements.

    The common case in an alert storm. Same effect as `_create` + `_correlate` + `_attach`
    when the alert is not silenced and the engine chooses a same-key group that has opened
    its incident and still accepts alerts; the group's counts, time and services change in
    the book (`GroupBook`). Returns None, having written nothing, otherwise.
    """
    assert ctx.integration is not None
    facts = _facts_of_signal(ctx.integration, signal)
    if grouping.maintenance_window_for(facts, ctx.now, ctx.windows()) is not None:
        return None
    session = ctx.session
    rule = ctx.rules().rule_for(facts.service, facts.labels)
    group_key = grouping.group_key(rule, facts)
    book = _book_groups(session, [], [group_key])
    rows = [group for group in book.groups.values() if group.group_key == group_key]
    if not rows:
        return None
    views = []
    for row in rows:
        accepts = row.status == PENDING
        if row.status == OPEN and row.incident_id is not None:
            accepts = book.accepting.get(row.incident_id, False)
            if not accepts:
                return None  # the general path closes that group
        views.append(_group_view(row, accepts))
    chosen = grouping.choose_group(rule, group_key, facts.service, ctx.now, views, frozenset())
    group = next((row for row in rows if chosen is not None and row.id == chosen.ref), None)
    if group is None or group.status != OPEN or group.incident_id is None:
        return None
    values = _new_alert_values(ctx, signal, key)
    values.update(group_id=group.id, incident_id=group.incident_id)
    write_held_resolves(session)  # the key may be one this batch resolved
    alert_id = _insert_alert(session, values)
    _pending_writes(session).events.append(
        {"alert_id": alert_id, "now": ctx.now, "action": "trigger"}
    )
    service = values["service"]
    # Known open from here on: a repeat later in the batch needs no read, and the next
    # batch of repeats can guess it (`remember_open_alerts`).
    _prefetched(session)[(ctx.integration.id, key)] = OpenAlert(
        alert_id, group.id, group.incident_id, OPEN, values["title"], service, values["severity"]
    )
    new_service = bool(service) and service not in group.services
    if new_service:
        group.services = [*group.services, service]
    group.joined += 1
    group.firing += 1
    group.last_at = max(group.last_at, ctx.now)
    group.changed = True
    _joined_incident(ctx, group.incident_id, alert_id, values, new_service)
    return AcceptedAlert(
        alert_id=alert_id, dedup_key=key, outcome="created", incident_id=group.incident_id
    )


def _forget_loaded(
    session: Session, model: type[Alert] | type[AlertGroup], ident: int | None
) -> None:
    """Expire a row's ORM object, if this session holds one, after a plain UPDATE of it."""
    if ident is None or not session.identity_map:
        return
    loaded = session.identity_map.get(identity_key(model, ident))
    if loaded is not None:
        session.expire(loaded)


def _create(ctx: Context, signal: AlertSignal, key: str) -> Alert:
    values = _new_alert_values(ctx, signal, key)
    reserved = _reserved_alert_ids(ctx.session)
    if reserved:  # so that a batch's alerts are numbered in the order they came
        values["id"] = reserved.pop()
    alert = Alert(**values)
    ctx.session.add(alert)
    ctx.session.flush()
    _event(ctx, alert, "trigger")
    return alert


def _new_alert_values(ctx: Context, signal: AlertSignal, key: str) -> dict[str, Any]:
    assert ctx.integration is not None
    facts = _facts_of_signal(ctx.integration, signal)
    return {
        "integration_id": ctx.integration.id,
        "dedup_key": key,
        "open_key": key,
        "title": facts.title,
        "severity": facts.severity,
        "service": facts.service,
        "source": signal.source[:200],
        "labels": dict(signal.labels),
        "details": dict(signal.details),
        "links": list(signal.links),
        "status": grouping.FIRING,
        "started_at": signal.started_at or ctx.now,
        "first_seen_at": ctx.now,
        "last_seen_at": ctx.now,
        "resolved_at": None,
        "occurrences": 1,
        "suppressed": "",
    }


def _event(ctx: Context, alert: Alert, action: str) -> None:
    ctx.session.add(AlertEvent(alert_id=alert.id, at=ctx.now, action=action))


def _repeat(ctx: Context, alert: Alert) -> None:
    alert.occurrences += 1
    alert.last_seen_at = ctx.now
    _event(ctx, alert, "repeat")
    if alert.group_id is None:
        _correlate(ctx, alert)  # silenced or flapping until now: try again
        return
    group = ctx.session.get_one(AlertGroup, alert.group_id)
    if group.status == PENDING:
        grouping_lock(ctx.session)
        ctx.session.refresh(group)
    if group.status == PENDING:
        group.occurrences += 1
        group.last_at = ctx.now
        _evaluate(ctx, group)
    else:
        # Open groups are updated without the grouping lock: let the database add.
        group.occurrences = AlertGroup.occurrences + 1
        group.last_at = ctx.now


def _acknowledge(ctx: Context, alert: Alert) -> None:
    alert.status = grouping.ACKNOWLEDGED
    alert.last_seen_at = ctx.now
    _event(ctx, alert, "acknowledge")
    if alert.incident_id is not None:
        text = f"Alert acknowledged at source: {alert.title}"
        _timeline(ctx, alert.incident_id, text, alert.id, alert.service, alert.severity)


def _resolve(ctx: Context, alert: Alert) -> None:
    alert.status = grouping.RESOLVED
    alert.open_key = None
    alert.resolved_at = ctx.now
    alert.last_seen_at = ctx.now
    _event(ctx, alert, "resolve")
    if alert.group_id is None:
        return
    grouping_lock(ctx.session)
    group = ctx.session.get_one(AlertGroup, alert.group_id)
    ctx.session.refresh(group)
    group.firing = max(0, group.firing - 1)
    group.last_at = ctx.now
    if group.status == PENDING:
        _evaluate(ctx, group)
    elif group.incident_id is not None:
        text = f"Alert resolved at source: {alert.title}"
        _timeline(ctx, group.incident_id, text, alert.id, alert.service, alert.severity)
        _note_when_all_resolved(ctx, group.incident_id)


def _note_when_all_resolved(ctx: Context, incident_id: int) -> None:
    counts = ctx.session.execute(
        select(func.count(), func.count().filter(Alert.status != grouping.RESOLVED)).where(
            Alert.incident_id == incident_id
        )
    ).one()
    if counts[0] and counts[1] == 0:
        incidents.add_timeline_entry_in(
            ctx.session,
            ctx.actor,
            incident_id=incident_id,
            kind="alerts_resolved",
            text=f"All {counts[0]} alert(s) of this incident have resolved at their source; "
            "the incident commander decides when the incident is resolved.",
            data={"alerts": counts[0]},
            at=ctx.now,
        )


def _timeline(
    ctx: Context, incident_id: int, text: str, alert_id: int, service: str, severity: str
) -> None:
    incidents.add_timeline_entry_in(
        ctx.session,
        ctx.actor,
        incident_id=incident_id,
        kind="alert",
        text=text,
        data={"alert_id": alert_id, "service": service, "severity": severity},
        at=ctx.now,
    )


def _joined_incident(
    ctx: Context, incident_id: int, alert_id: int, values: dict[str, Any], new_service: bool
) -> None:
    """An alert joined an open incident: on its timeline, and its service becomes impacted."""
    service, severity = values["service"], values["severity"]
    text = f"Alert joined: {values['title']} ({service or 'no service'})"
    _timeline(ctx, incident_id, text, alert_id, service, severity)
    if service and new_service:
        incidents.add_impacted_service_in(
            ctx.session, ctx.actor, incident_id=incident_id, service_name=service, at=ctx.now
        )


# --- stage 2: correlation ------------------------------------------------------------------


def facts_of(alert: Alert) -> grouping.AlertFacts:
    labels = {str(k): str(v) for k, v in (alert.labels or {}).items()}
    return grouping.AlertFacts(alert.service, labels, alert.severity, alert.title)


def active_windows(session: Session, at: datetime) -> list[grouping.MaintenanceWindow]:
    return [w for w in unended_windows(session, at) if w.starts_at <= at]


def _reserved_alert_ids(session: Session) -> list[int]:
    """Alert ids reserved by this transaction and not used yet, the next one last."""
    return per_transaction(session, "warroom.intake.alert_ids", lambda _: [])


def _keep_reserved_alert_ids(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Keep the ids `_RESERVE_ALERT_IDS` returned, to be used in the order they came."""
    _reserved_alert_ids(session).extend(reversed([row[0] for row in rows]))


_UNENDED_WINDOWS = Prepared(
    select(
        MaintenanceWindow.id,
        MaintenanceWindow.starts_at,
        MaintenanceWindow.ends_at,
        MaintenanceWindow.services,
        MaintenanceWindow.labels,
    ).where(MaintenanceWindow.ends_at > bindparam("at", type_=UTCDateTime))
)


def unended_windows(session: Session, at: datetime) -> list[grouping.MaintenanceWindow]:
    session.flush()  # a window added in this transaction counts
    return _windows_of(_UNENDED_WINDOWS.rows(session.connection(), {"at": at}))


def _windows_of(rows: Sequence[tuple[Any, ...]]) -> list[grouping.MaintenanceWindow]:
    return [
        grouping.MaintenanceWindow(
            ref, starts_at, ends_at, tuple(services), {str(k): str(v) for k, v in labels.items()}
        )
        for ref, starts_at, ends_at, services, labels in rows
    ]


def window_view(row: MaintenanceWindow) -> grouping.MaintenanceWindow:
    labels = {str(k): str(v) for k, v in row.labels.items()}
    return grouping.MaintenanceWindow(
        row.id, row.starts_at, row.ends_at, tuple(row.services), labels
    )


def _correlate(ctx: Context, alert: Alert) -> None:
    facts = facts_of(alert)
    window = grouping.maintenance_window_for(facts, ctx.now, ctx.windows())
    if window is not None:
        alert.silenced_by = window.ref
        return
    grouping_lock(ctx.session)
    rule = ctx.rules().rule_for(facts.service, facts.labels)
    key = grouping.group_key(rule, facts)
    group = _choose(ctx, rule, key, alert.service)
    if group is None:
        if _flapping(ctx, alert, rule):
            alert.suppressed = "flapping"
            return
        group = _new_group(ctx, rule, key)
    alert.suppressed = ""
    _attach(ctx, alert, group)


def _choose(ctx: Context, rule: grouping.Rule, key: str, service: str) -> AlertGroup | None:
    """Same-key groups first (the engine prefers them anyway), then dependency neighbours.

    Only groups that could take the alert are turned into views, because deciding whether
    a group accepts alerts asks the incidents domain about its incident.
    """
    live = AlertGroup.status.in_([PENDING, OPEN])
    same_key = ctx.session.scalars(select(AlertGroup).where(live, AlertGroup.group_key == key))
    chosen = _pick(ctx, rule, key, service, same_key.all(), frozenset())
    if chosen is not None or rule.dependency_window is None:
        return chosen
    horizon = ctx.now - rule.dependency_window
    others = ctx.session.scalars(
        select(AlertGroup).where(live, AlertGroup.group_key != key, AlertGroup.last_at >= horizon)
    ).all()
    others = [row for row in others if row.services]
    if not others:
        return None
    neighbours = _neighbours(ctx.session, service)
    related = [row for row in others if neighbours.intersection(row.services)]
    return _pick(ctx, rule, key, service, related, neighbours)


def _pick(
    ctx: Context,
    rule: grouping.Rule,
    key: str,
    service: str,
    rows: Sequence[AlertGroup],
    neighbours: frozenset[str],
) -> AlertGroup | None:
    if not rows:
        return None
    views = [_view(ctx, row) for row in rows]
    chosen = grouping.choose_group(rule, key, service, ctx.now, views, neighbours)
    return next((row for row in rows if row.id == chosen.ref), None) if chosen else None


def _view(ctx: Context, row: AlertGroup) -> grouping.GroupView:
    accepts = row.status == PENDING
    if row.status == OPEN and row.incident_id is not None:
        accepts = incidents.incident_accepts_alerts_in(ctx.session, row.incident_id)
        if not accepts:
            row.status = CLOSED  # the incident ended: this group takes no more alerts
    return _group_view(row, accepts)


class GroupRow(Protocol):
    """What a group view is made of: an `AlertGroup`, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def rule(self) -> str: ...
    @property
    def group_key(self) -> str: ...
    @property
    def services(self) -> list[Any]: ...
    @property
    def first_at(self) -> datetime: ...
    @property
    def last_at(self) -> datetime: ...
    @property
    def firing(self) -> int: ...


def _group_view(row: GroupRow, accepts: bool) -> grouping.GroupView:
    return grouping.GroupView(
        row.id,
        row.rule,
        row.group_key,
        frozenset(row.services),
        row.first_at,
        row.last_at,
        row.firing,
        accepts,
    )


def _neighbours(session: Session, service: str) -> frozenset[str]:
    graph = catalog_queries.dependency_graph(session)
    dependents = {name for name, needs in graph.items() if service in needs}
    return frozenset(graph.get(service, [])) | frozenset(dependents)


def _flapping(ctx: Context, alert: Alert, rule: grouping.Rule) -> bool:
    starts = ctx.session.scalars(
        select(Alert.first_seen_at).where(
            Alert.integration_id == alert.integration_id,
            Alert.dedup_key == alert.dedup_key,
            Alert.first_seen_at >= ctx.now - rule.flap_window,
        )
    ).all()
    return grouping.is_flapping(list(starts), rule, ctx.now)


def _new_group(ctx: Context, rule: grouping.Rule, key: str) -> AlertGroup:
    group = AlertGroup(
        rule=rule.name,
        group_key=key[:500],
        services=[],
        status=PENDING,
        first_at=ctx.now,
        last_at=ctx.now,
        occurrences=0,
        firing=0,
        reason="",
        previous_incident_id=_previous_incident(ctx, key),
    )
    ctx.session.add(group)
    ctx.session.flush()
    return group


def _previous_incident(ctx: Context, key: str) -> int | None:
    """The latest incident of this group key, if it has ended (the new one is a recurrence)."""
    latest = ctx.session.scalars(
        select(AlertGroup.incident_id)
        .where(AlertGroup.group_key == key, AlertGroup.incident_id.is_not(None))
        .order_by(AlertGroup.id.desc())
        .limit(1)
    ).first()
    if latest is None or incidents.incident_accepts_alerts_in(ctx.session, latest):
        return None
    return latest


def _attach(ctx: Context, alert: Alert, group: AlertGroup) -> None:
    alert.group_id = group.id
    group.occurrences += 1
    group.firing += 1
    group.last_at = ctx.now
    new_service = bool(alert.service) and alert.service not in group.services
    if new_service:
        group.services = [*group.services, alert.service]
    if group.status == OPEN and group.incident_id is not None:
        alert.incident_id = group.incident_id
        values = {"title": alert.title, "service": alert.service, "severity": alert.severity}
        _joined_incident(ctx, group.incident_id, alert.id, values, new_service)
    else:
        _evaluate(ctx, group)


# --- stage 3: opening ----------------------------------------------------------------------


def _evaluate(ctx: Context, group: AlertGroup) -> grouping.Verdict:
    rule = ctx.rules().by_name(group.rule)
    decision = grouping.opening_decision(
        rule,
        first_at=group.first_at,
        occurrences=group.occurrences,
        firing=group.firing,
        now=ctx.now,
    )
    group.reason = decision.reason
    if decision.verdict is grouping.Verdict.OPEN:
        _open_incident(ctx, group, rule, decision.reason)
    elif decision.verdict is grouping.Verdict.EXPIRE:
        group.status = EXPIRED
        group.not_before = None
    else:
        group.not_before = decision.not_before
    return decision.verdict


def _open_incident(ctx: Context, group: AlertGroup, rule: grouping.Rule, reason: str) -> None:
    alerts = ctx.session.scalars(
        select(Alert).where(Alert.group_id == group.id).order_by(Alert.id)
    ).all()
    incident_id = incidents.open_incident_in(
        ctx.session,
        ctx.actor,
        title=_title(alerts, group),
        severity=grouping.incident_severity([a.severity for a in alerts], rule),
        summary="\n".join(f"- [{a.severity}] {a.service}: {a.title}" for a in alerts),
        service_names=list(group.services),
        detected_at=min(a.started_at for a in alerts),
        source=INTAKE_SOURCE,
    )
    group.status, group.incident_id, group.opened_at = OPEN, incident_id, ctx.now
    group.not_before = None
    for alert in alerts:
        alert.incident_id = incident_id
    incidents.add_timeline_entry_in(
        ctx.session,
        ctx.actor,
        incident_id=incident_id,
        kind="alerts",
        text=f"Opened by grouping rule {rule.name!r}: {reason}; {len(alerts)} alert(s).",
        data={"group_id": group.id, "alerts": [a.id for a in alerts], "rule": rule.name},
        at=ctx.now,
    )
    if group.previous_incident_id is not None:
        incidents.link_recurrence_in(
            ctx.session,
            ctx.actor,
            incident_id=incident_id,
            previous_incident_id=group.previous_incident_id,
        )


def _title(alerts: Sequence[Alert], group: AlertGroup) -> str:
    lead = min(alerts, key=lambda a: (a.severity, a.id))
    services = ", ".join(group.services[:3]) or "alerts"
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    return f"{services}: {lead.title}{more}"[:200]


def evaluate_due_groups(ctx: Context) -> TickReport:
    """Open (or expire) every pending group whose time-based condition has come due."""
    grouping_lock(ctx.session)
    due = ctx.session.scalars(
        select(AlertGroup)
        .where(
            AlertGroup.status == PENDING,
            or_(AlertGroup.not_before <= ctx.now, AlertGroup.firing <= 0),
        )
        .order_by(AlertGroup.id)
    ).all()
    report = TickReport()
    for group in due:
        verdict = _evaluate(ctx, group)
        if verdict is grouping.Verdict.OPEN and group.incident_id is not None:
            report.opened.append(group.incident_id)
        elif verdict is grouping.Verdict.EXPIRE:
            report.expired += 1
        else:
            report.waiting += 1
    return report
