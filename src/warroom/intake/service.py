"""Intake use cases: integrations, deliveries, dead letters, rules, silences and the tick.

`receive_delivery` is what every intake endpoint (and the demo, and `warroom alert send`)
calls: it authenticates the integration, parses the body with the integration's adapter and
runs the signals through grouping, all in one transaction that commits before the endpoint
answers 2xx. A body that cannot be parsed is kept as a dead letter (committed) before the
400/422 is raised, so nothing a source sent is lost. Individual deliveries are not written to
the audit log: `alert_events` is their own append-only record, and an audit entry per alert
would serialise all intake on the audit chain's lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warroom.accounts.passwords import digest, new_secret
from warroom.actors import Actor, require_admin
from warroom.audit.service import append_entry
from warroom.db.base import utcnow
from warroom.db.uow import UnitOfWork
from warroom.engines import alertgrouping as grouping
from warroom.errors import (
    AuthenticationRequired,
    Conflict,
    FieldError,
    InvalidInput,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    WarroomError,
)
from warroom.incidents import service as incidents
from warroom.intake import pipeline
from warroom.intake.models import (
    DeadLetter,
    GroupingRuleSet,
    Integration,
    MaintenanceWindow,
)
from warroom.intake.schemas import (
    DeadLetterOut,
    DeliveryResult,
    IntegrationCreate,
    IntegrationCreated,
    IntegrationKind,
    IntegrationOut,
    IntegrationUpdate,
    MaintenanceCreate,
    MaintenanceOut,
    RulesOut,
    TickReport,
)
from warroom.integrations import alertmanager, generic, opsgenie, pagerduty
from warroom.integrations.signals import Action, AlertSignal, ChangeSignal, PayloadError
from warroom.validation import parse_fields

CREDENTIAL_PREFIX = "wi"
RETRIES = 3
UNATTRIBUTED_PER_HOUR = 100


class Endpoint(StrEnum):
    """Each intake endpoint, with the integration kind it accepts."""

    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    PAGERDUTY_CHANGE = "pagerduty-change"
    OPSGENIE_CREATE = "opsgenie-create"
    OPSGENIE_CLOSE = "opsgenie-close"
    OPSGENIE_ACK = "opsgenie-acknowledge"
    GENERIC = "generic"

    @property
    def kind(self) -> IntegrationKind:
        return IntegrationKind(self.value.split("-")[0])


@dataclass(frozen=True)
class Delivery:
    """One request to an intake endpoint, as received."""

    endpoint: Endpoint
    body: bytes
    credential: str | None = None
    content_type: str = "application/json"
    params: Mapping[str, str] = field(default_factory=dict)


# --- integrations --------------------------------------------------------------------------


def create_integration(
    uow: UnitOfWork, actor: Actor, *, data: IntegrationCreate
) -> IntegrationCreated:
    """Create an integration (admins only); its credential is returned this once."""
    require_admin(actor, action="creating integrations")
    if data.kind is IntegrationKind.GENERIC:
        _validated_mapping(data.mapping)
    with uow:
        if uow.session.scalars(select(Integration.id).where(Integration.name == data.name)).first():
            raise Conflict(
                f"an integration named {data.name} already exists",
                [FieldError("name", "already in use")],
            )
        secret = new_secret(CREDENTIAL_PREFIX)
        integration = Integration(
            kind=data.kind.value,
            name=data.name,
            credential_hash=digest(secret),
            credential_prefix=secret[:10],
            default_service=data.default_service,
            mapping=data.mapping,
            max_body_bytes=data.max_body_bytes,
            created_at=utcnow(),
            disabled_at=None,
        )
        uow.session.add(integration)
        uow.session.flush()
        _audit(uow.session, actor, "integration.create", integration, kind=data.kind.value)
        out = IntegrationCreated(
            **IntegrationOut.model_validate(integration).model_dump(), credential=secret
        )
        uow.commit()
    return out


def rotate_credential(uow: UnitOfWork, actor: Actor, *, name: str) -> IntegrationCreated:
    """Issue a new credential; the old one stops working at once."""
    require_admin(actor, action="rotating integration credentials")
    with uow:
        integration = _get_integration(uow.session, name)
        secret = new_secret(CREDENTIAL_PREFIX)
        integration.credential_hash = digest(secret)
        integration.credential_prefix = secret[:10]
        _audit(uow.session, actor, "integration.rotate", integration)
        out = IntegrationCreated(
            **IntegrationOut.model_validate(integration).model_dump(), credential=secret
        )
        uow.commit()
    return out


def update_integration(
    uow: UnitOfWork, actor: Actor, *, name: str, data: IntegrationUpdate
) -> IntegrationOut:
    """Change an integration's mapping, default service or body limit (admins only)."""
    require_admin(actor, action="changing integrations")
    with uow:
        integration = _get_integration(uow.session, name)
        changes = data.model_dump(exclude_none=True)
        if "mapping" in changes:
            if integration.kind != IntegrationKind.GENERIC.value:
                raise InvalidInput(
                    "only generic integrations take a field mapping",
                    [FieldError("mapping", "not for this kind")],
                )
            _validated_mapping(changes["mapping"])
        for key, value in changes.items():
            setattr(integration, key, value)
        _audit(uow.session, actor, "integration.update", integration, changed=sorted(changes))
        out = IntegrationOut.model_validate(integration)
        uow.commit()
    return out


def disable_integration(uow: UnitOfWork, actor: Actor, *, name: str) -> IntegrationOut:
    """Stop accepting deliveries from an integration (its alerts are kept)."""
    require_admin(actor, action="disabling integrations")
    with uow:
        integration = _get_integration(uow.session, name)
        if integration.disabled_at is None:
            integration.disabled_at = utcnow()
            _audit(uow.session, actor, "integration.disable", integration)
        out = IntegrationOut.model_validate(integration)
        uow.commit()
    return out


def _validated_mapping(raw: Mapping[str, Any]) -> generic.FieldMapping:
    try:
        return generic.validate_mapping(raw)
    except PayloadError as exc:
        raise InvalidInput(exc.detail, _field_errors(exc, "mapping")) from exc


def _get_integration(session: Session, name: str) -> Integration:
    integration = session.scalars(select(Integration).where(Integration.name == name)).first()
    if integration is None:
        raise NotFound(f"integration {name}")
    return integration


def _audit(session: Session, actor: Actor, action: str, obj: Integration, **extra: Any) -> None:
    append_entry(
        session,
        actor,
        action=action,
        object_type="integration",
        object_id=obj.id,
        summary={"name": obj.name, **extra},
    )


# --- deliveries ----------------------------------------------------------------------------


def receive_delivery(
    uow: UnitOfWork, delivery: Delivery, *, now: datetime | None = None
) -> DeliveryResult:
    """Authenticate, parse and apply one delivery; committed before this returns.

    Raises:
        AuthenticationRequired: no or a wrong credential for this endpoint (nothing kept).
        PayloadTooLarge: over the integration's own body limit (nothing kept).
        MalformedRequest / InvalidInput: the body is not what the format requires; it is
            kept as a dead letter first.
    """
    document, json_error = _decode(delivery.body)
    credential = _credential_of(delivery, document)
    if credential is None and delivery.endpoint in ROUTING_KEY_ENDPOINTS:
        _keep_unattributed(uow, delivery, json_error or "routing_key is missing")
    for attempt in range(RETRIES):
        try:
            return _receive_once(uow, delivery, credential, document, json_error, now)
        except IntegrityError:
            # Another process created the same alert first; run again and count a repeat.
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def receive_batch(
    uow: UnitOfWork,
    deliveries: Sequence[Delivery],
    *,
    now: datetime | None = None,
    guess: bool = True,
) -> list[DeliveryResult | Exception]:
    """Apply several deliveries in one transaction (group commit); one outcome per delivery.

    Why: per delivery, opening and committing a transaction costs more than the grouping
    itself, so the HTTP endpoints hand concurrent deliveries to one writer that commits them
    together; each still answers only after that commit. Every outcome is what
    `receive_delivery` would have given, result or raised error: rejections that write
    nothing (credential, size) or only a dead letter (malformed body) are settled inside
    the batch. Anything else, such as another process creating the same alert first, rolls
    the whole batch back and each delivery is then received alone, with its own retries, so
    one delivery's trouble costs the others only time. A batch whose guess of its open
    alerts turned out stale (`pipeline.open_known_batch`) is redone as a batch, without
    guessing.
    """
    outcomes: list[DeliveryResult | Exception | None] = [None] * len(deliveries)
    decoded = [_decode(delivery.body) for delivery in deliveries]
    keys: list[tuple[int, str]] = []
    try:
        with uow:
            session = uow.session
            accepted = _accepted_as_known(session, deliveries, decoded, guess=guess)
            if accepted is None:
                accepted = _accepted_one_by_one(session, deliveries, decoded, outcomes)
            batch = [(src, sig) for _, src, sig in accepted]
            keys = pipeline.batch_keys(batch)
            pipeline.lock_identities(session, batch)
            pipeline.prefetch_open_alerts(session, batch)
            pipeline.book_groups_of_batch(session, batch, now or utcnow())
            actors: dict[str, Actor] = {}
            for index, source, signals in accepted:
                actor = actors.get(source.name)
                if actor is None:
                    actor = actors[source.name] = Actor.system(f"integration:{source.name}")
                ctx = pipeline.Context(session, actor, now or utcnow(), source)
                outcomes[index] = _apply(ctx, signals)
            seen = pipeline.open_alerts_seen(session)
            uow.commit()
        pipeline.remember_open_alerts(seen, keys)
    except Exception as exc:  # noqa: BLE001 - each delivery is redone alone below and gets its own
        pipeline.forget_open_alerts(keys)
        if guess and pipeline.is_stale_guess(exc):
            return receive_batch(uow, deliveries, now=now, guess=False)
        outcomes = [None] * len(deliveries)
    settled: list[DeliveryResult | Exception] = []
    for delivery, outcome in zip(deliveries, outcomes, strict=True):
        if outcome is None:
            try:
                outcome = receive_delivery(uow, delivery, now=now)
            except Exception as exc:  # noqa: BLE001 - handed to the delivery's own request
                outcome = exc
        settled.append(outcome)
    return settled


ROUTING_KEY_ENDPOINTS = (Endpoint.PAGERDUTY, Endpoint.PAGERDUTY_CHANGE)

Accepted = list[tuple[int, pipeline.Source, list[AlertSignal | ChangeSignal]]]


def _accepted_one_by_one(
    session: Session,
    deliveries: Sequence[Delivery],
    decoded: Sequence[tuple[Any, str | None]],
    outcomes: list[DeliveryResult | Exception | None],
) -> Accepted:
    """Each delivery authenticated and parsed; a rejection becomes its outcome."""
    sources: dict[str, pipeline.Source | WarroomError] = {}
    accepted: Accepted = []
    for index, delivery in enumerate(deliveries):
        document, json_error = decoded[index]
        credential = _credential_of(delivery, document)
        if credential is None and delivery.endpoint in ROUTING_KEY_ENDPOINTS:
            continue  # kept within its cap by `receive_delivery`, after the batch
        try:
            source = _authenticate_once(session, delivery.endpoint, credential, sources)
            signals = _accepted_signals(session, delivery, source, document, json_error)
        except WarroomError as exc:
            outcomes[index] = exc
            continue
        accepted.append((index, source, signals))
    return accepted


# Integrations this process authenticated, by endpoint kind and credential digest: only a
# guess, which `_accepted_as_known` checks in the transaction before anything relies on it.
_KNOWN_SOURCES: dict[tuple[str, str], pipeline.Source] = {}
_KNOWN_SOURCES_MAX = 1024


def _accepted_as_known(
    session: Session,
    deliveries: Sequence[Delivery],
    decoded: Sequence[tuple[Any, str | None]],
    *,
    guess: bool,
) -> Accepted | None:
    """A batch's signals, when all of it comes from one integration this process knows.

    Why: on PostgreSQL a batch otherwise reads its integration, takes its identity locks and
    reads its open alerts, three round trips in a row. When every delivery carries the same
    credential, the integration it had last time is known, and every delivery parses with
    it, one round trip does all three (`pipeline.open_known_batch`); if the integration read
    differs from the one expected (rotated, disabled, changed), the guess is dropped and
    None returned, and the batch is authenticated and parsed the usual way (locks already
    taken are harmless).
    None too for anything else, such as a body that does not parse.
    """
    if session.get_bind().dialect.name != "postgresql" or not deliveries:
        return None
    credentials = {
        (delivery.endpoint.kind.value, _credential_of(delivery, document))
        for delivery, (document, _) in zip(deliveries, decoded, strict=True)
    }
    if len(credentials) != 1:
        return None
    ((kind, credential),) = credentials
    if not credential:
        return None
    known_as = (kind, digest(credential))
    source = _KNOWN_SOURCES.get(known_as)
    if source is None:
        return None
    accepted: Accepted = []
    for index, delivery in enumerate(deliveries):
        document, json_error = decoded[index]
        if _over_own_limit(source, delivery):
            return None
        try:
            accepted.append((index, source, _parse(delivery, source, document, json_error)))
        except Exception:  # noqa: BLE001 - the usual path rejects it with the right problem
            return None
    batch = [(source, signals) for _, _, signals in accepted]
    if not pipeline.open_known_batch(session, known_as[1], source, batch, guess=guess):
        _KNOWN_SOURCES.pop(known_as, None)
        return None
    return accepted


def _remember_source(kind: str, credential_hash: str, source: pipeline.Source) -> None:
    if len(_KNOWN_SOURCES) >= _KNOWN_SOURCES_MAX:
        _KNOWN_SOURCES.clear()
    _KNOWN_SOURCES[(kind, credential_hash)] = source


def _credential_of(delivery: Delivery, document: Any) -> str | None:
    """PagerDuty sends its credential in the body (`routing_key`); the others in headers."""
    if delivery.endpoint in ROUTING_KEY_ENDPOINTS:
        return pagerduty.routing_key_of(document)
    return delivery.credential


def _receive_once(
    uow: UnitOfWork,
    delivery: Delivery,
    credential: str | None,
    document: Any,
    json_error: str | None,
    now: datetime | None,
) -> DeliveryResult:
    with uow:
        integration = _authenticate(uow.session, delivery.endpoint, credential)
        try:
            signals = _accepted_signals(uow.session, delivery, integration, document, json_error)
        except (MalformedRequest, InvalidInput):
            uow.commit()  # the dead letter
            raise
        pipeline.lock_identities(uow.session, [(integration, signals)])
        actor = Actor.system(f"integration:{integration.name}")
        ctx = pipeline.Context(uow.session, actor, now or utcnow(), integration)
        result = _apply(ctx, signals)
        uow.commit()
    return result


def _accepted_signals(
    session: Session,
    delivery: Delivery,
    integration: pipeline.Source,
    document: Any,
    json_error: str | None,
) -> list[AlertSignal | ChangeSignal]:
    """The delivery's signals; a body that does not parse is added as a dead letter first.

    Raises:
        PayloadTooLarge: over the integration's own body limit (nothing kept).
        MalformedRequest / InvalidInput: after adding the dead letter to the session.
    """
    if _over_own_limit(integration, delivery):
        raise PayloadTooLarge(
            f"the request body is larger than {integration.max_body_bytes} bytes, "
            f"the limit of integration {integration.name}"
        )
    try:
        return _parse(delivery, integration, document, json_error)
    except PayloadError as exc:
        _keep_dead_letter(session, delivery, integration.id, exc)
        raise _rejection(exc, json_error) from exc


def _over_own_limit(integration: pipeline.Source, delivery: Delivery) -> bool:
    """Whether the body is over the integration's own limit (None or 0: no limit)."""
    limit = integration.max_body_bytes
    return limit is not None and 0 < limit < len(delivery.body)


def _authenticate_once(
    session: Session,
    endpoint: Endpoint,
    credential: str | None,
    seen: dict[str, pipeline.Source | WarroomError],
) -> pipeline.Source:
    """`_authenticate`, remembered per credential and endpoint for the length of a batch."""
    memo_key = f"{endpoint.kind.value} {credential}"
    if memo_key not in seen:
        try:
            seen[memo_key] = _authenticate(session, endpoint, credential)
        except WarroomError as exc:
            seen[memo_key] = exc
    outcome = seen[memo_key]
    if isinstance(outcome, WarroomError):
        raise outcome
    return outcome


def _decode(body: bytes) -> tuple[Any, str | None]:
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError) as exc:
        return None, f"the body is not valid JSON: {exc}"


def _authenticate(session: Session, endpoint: Endpoint, credential: str | None) -> pipeline.Source:
    if not credential:
        raise AuthenticationRequired("send the integration's credential")
    credential_hash = digest(credential)
    found = pipeline.find_source(session, credential_hash)
    if found is None or found[1]:
        raise AuthenticationRequired("the integration credential is not valid")
    integration = found[0]
    if integration.kind != endpoint.kind.value:
        raise AuthenticationRequired(
            f"the credential belongs to a {integration.kind} integration, not {endpoint.kind}"
        )
    _remember_source(endpoint.kind.value, credential_hash, integration)
    return integration


def _parse(
    delivery: Delivery, integration: pipeline.Source, document: Any, json_error: str | None
) -> list[AlertSignal | ChangeSignal]:
    endpoint = delivery.endpoint
    if endpoint in (Endpoint.OPSGENIE_CLOSE, Endpoint.OPSGENIE_ACK):
        action = Action.RESOLVE if endpoint is Endpoint.OPSGENIE_CLOSE else Action.ACKNOWLEDGE
        identifier_type = delivery.params.get("identifierType", "id")
        return [
            opsgenie.close_signal(delivery.params.get("identifier", ""), identifier_type, action)
        ]
    if json_error is not None:
        raise PayloadError(json_error, [("body", json_error)])
    if endpoint is Endpoint.GENERIC:
        return list(
            generic.parse(document, generic.FieldMapping.model_validate(integration.mapping))
        )
    return _PARSERS[endpoint](document)


_PARSERS: dict[Endpoint, Callable[[Any], list[AlertSignal | ChangeSignal]]] = {
    Endpoint.ALERTMANAGER: lambda d: list(alertmanager.parse(d)),
    Endpoint.PAGERDUTY: lambda d: [pagerduty.parse_event(d)],
    Endpoint.PAGERDUTY_CHANGE: lambda d: [pagerduty.parse_change(d)],
    Endpoint.OPSGENIE_CREATE: lambda d: [opsgenie.parse_create(d)],
}


def _apply(ctx: pipeline.Context, signals: list[AlertSignal | ChangeSignal]) -> DeliveryResult:
    """Apply the signals; fast-path writes may stay pending until the commit."""
    result = DeliveryResult()
    for signal in signals:
        if isinstance(signal, ChangeSignal):
            pipeline.write_pending(ctx.session)
            result.change_id = _record_change(ctx, signal)
        else:
            result.alerts.append(pipeline.apply_alert(ctx, signal))
    return result


def _record_change(ctx: pipeline.Context, signal: ChangeSignal) -> int:
    assert ctx.integration is not None
    service = signal.service or ctx.integration.default_service or signal.source
    return incidents.record_change_in(
        ctx.session,
        ctx.actor,
        service_name=service,
        summary=signal.summary,
        source=f"{ctx.integration.kind}:{ctx.integration.name}",
        kind=signal.kind,
        happened_at=signal.happened_at or ctx.now,
        details=dict(signal.details),
    )


def _rejection(exc: PayloadError, json_error: str | None) -> InvalidInput:
    errors = _field_errors(exc, "body")
    if json_error is not None:
        return MalformedRequest(exc.detail, errors)
    return InvalidInput(exc.detail, errors)


def _field_errors(exc: PayloadError, default: str) -> list[FieldError]:
    return [FieldError(where or default, what) for where, what in exc.problems]


def _keep_dead_letter(
    session: Session, delivery: Delivery, integration_id: int | None, exc: PayloadError
) -> None:
    session.add(
        DeadLetter(
            integration_id=integration_id,
            endpoint=delivery.endpoint.value,
            received_at=utcnow(),
            reason=exc.detail,
            errors=[{"field": w, "message": m} for w, m in exc.problems],
            content_type=delivery.content_type[:200],
            body=delivery.body,
            status="kept",
            replay_note="",
        )
    )


def _keep_unattributed(uow: UnitOfWork, delivery: Delivery, reason: str) -> None:
    """A PagerDuty body without a readable routing key: kept (within a cap), then 400.

    The cap bounds what an anonymous sender can make us store.
    """
    error = PayloadError(reason, [("routing_key", reason)])
    with uow:
        hour_ago = utcnow() - timedelta(hours=1)
        recent = uow.session.scalar(
            select(func.count())
            .select_from(DeadLetter)
            .where(DeadLetter.integration_id.is_(None), DeadLetter.received_at >= hour_ago)
        )
        if (recent or 0) < UNATTRIBUTED_PER_HOUR:
            _keep_dead_letter(uow.session, delivery, None, error)
            uow.commit()
    raise MalformedRequest(f"Event object is invalid: {reason}", _field_errors(error, "body"))


# --- dead letters --------------------------------------------------------------------------


def replay_dead_letter(uow: UnitOfWork, actor: Actor, *, dead_letter_id: int) -> DeadLetterOut:
    """Run a kept body through intake again (after a fix to the source or the mapping)."""
    require_admin(actor, action="replaying dead letters")
    with uow:
        letter = uow.session.get(DeadLetter, dead_letter_id)
        if letter is None:
            raise NotFound(f"dead letter {dead_letter_id}")
        integration = uow.session.get(Integration, letter.integration_id or 0)
        if integration is None or integration.disabled_at is not None:
            raise Conflict("the dead letter has no active integration to replay it for")
        delivery = Delivery(Endpoint(letter.endpoint), letter.body, None, letter.content_type)
        document, json_error = _decode(letter.body)
        try:
            signals = _parse(delivery, pipeline.Source.of(integration), document, json_error)
        except PayloadError as exc:
            letter.status, letter.replay_note = "failed", f"still invalid: {exc.detail}"
        else:
            ctx = pipeline.Context(uow.session, Actor.system(f"replay:{actor.label}"), utcnow())
            ctx.integration = pipeline.Source.of(integration)
            result = _apply(ctx, signals)
            letter.status = "replayed"
            letter.replay_note = f"{len(result.alerts)} alert signal(s) applied"
        letter.replayed_at = utcnow()
        append_entry(
            uow.session,
            actor,
            action="dead_letter.replay",
            object_type="dead_letter",
            object_id=letter.id,
            summary={"status": letter.status, "note": letter.replay_note},
        )
        out = DeadLetterOut.model_validate(letter)
        out.size = len(letter.body)
        uow.commit()
    return out


# --- rules, maintenance windows, the tick --------------------------------------------------


def parse_rules_text(source: str) -> dict[str, Any]:
    """YAML (or JSON) rules text to a validated document, naming offending fields."""
    try:
        document = yaml.safe_load(source) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the rules are not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput("the rules must be a mapping with a `rules` list")
    try:
        grouping.parse_rules(document)
    except grouping.RulesError as exc:
        raise InvalidInput(
            "the grouping rules are not valid", [FieldError(w, m) for w, m in exc.problems]
        ) from exc
    return document


def parse_mapping_text(source: str) -> dict[str, Any]:
    """A generic integration's field mapping from JSON or YAML text."""
    try:
        document = yaml.safe_load(source) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"the mapping is not valid YAML or JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput("the mapping must be a mapping of field to path")
    return document


def set_rules(uow: UnitOfWork, actor: Actor, *, source: str) -> RulesOut:
    """Replace the live grouping rules (admins only); applies to the next alert."""
    require_admin(actor, action="changing grouping rules")
    document = parse_rules_text(source)
    with uow:
        row = uow.session.get(GroupingRuleSet, 1)
        if row is None:
            row = GroupingRuleSet(id=1, source="", document={}, updated_at=utcnow(), updated_by="")
            uow.session.add(row)
        row.source, row.document = source, document
        row.updated_at, row.updated_by = utcnow(), actor.label
        append_entry(
            uow.session,
            actor,
            action="grouping_rules.set",
            object_type="grouping_rules",
            object_id=1,
            summary={"rules": [r.get("name") for r in document.get("rules", [])]},
        )
        out = RulesOut(
            source=source, document=document, updated_at=row.updated_at, updated_by=actor.label
        )
        uow.commit()
    return out


def create_maintenance(uow: UnitOfWork, actor: Actor, *, data: MaintenanceCreate) -> MaintenanceOut:
    """Schedule a maintenance window: matching alerts are recorded as silenced."""
    require_admin(actor, action="scheduling maintenance windows")
    with uow:
        window = MaintenanceWindow(
            name=data.name,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            services=data.services,
            labels=data.labels,
            created_by=actor.label,
            created_at=utcnow(),
        )
        uow.session.add(window)
        uow.session.flush()
        append_entry(
            uow.session,
            actor,
            action="maintenance.create",
            object_type="maintenance_window",
            object_id=window.id,
            summary=data.model_dump(mode="json"),
        )
        out = MaintenanceOut.model_validate(window)
        uow.commit()
    return out


def end_maintenance(uow: UnitOfWork, actor: Actor, *, window_id: int) -> MaintenanceOut:
    """End a maintenance window now (alerts from now on are grouped as usual)."""
    require_admin(actor, action="ending maintenance windows")
    with uow:
        window = uow.session.get(MaintenanceWindow, window_id)
        if window is None:
            raise NotFound(f"maintenance window {window_id}")
        now = utcnow()
        window.ends_at = min(window.ends_at, now)
        window.starts_at = min(window.starts_at, window.ends_at)
        append_entry(
            uow.session,
            actor,
            action="maintenance.end",
            object_type="maintenance_window",
            object_id=window.id,
        )
        out = MaintenanceOut.model_validate(window)
        uow.commit()
    return out


def send_test_alert(
    uow: UnitOfWork, actor: Actor, *, integration_name: str, signal: AlertSignal
) -> DeliveryResult:
    """Run one alert through an integration's grouping path, as a delivery would (admins)."""
    require_admin(actor, action="sending test alerts")
    with uow:
        integration = _get_integration(uow.session, integration_name)
        if integration.disabled_at is not None:
            raise Conflict(f"integration {integration_name} is disabled")
        ctx = pipeline.Context(uow.session, Actor.system(f"test-alert:{actor.label}"), utcnow())
        ctx.integration = pipeline.Source.of(integration)
        result = _apply(ctx, [signal])
        uow.commit()
    return result


def require_tick_rights(actor: Actor) -> None:
    require_admin(actor, action="running the intake tick")


def tick(uow: UnitOfWork, *, now: datetime | None = None) -> TickReport:
    """Evaluate time-based opening rules (`open_after.duration`, `group_wait`) now.

    Safe to run from several processes at once: the grouping lock serialises the runs and
    a group, once opened, is no longer pending.
    """
    with uow:
        ctx = pipeline.Context(uow.session, Actor.system("intake-tick"), now or utcnow())
        report = pipeline.evaluate_due_groups(ctx)
        uow.commit()
    return report


def parse_integration_create(**fields: object) -> IntegrationCreate:
    """Validate raw fields (from a form or the CLI), naming bad fields."""
    return parse_fields(IntegrationCreate, fields, what="integration")
