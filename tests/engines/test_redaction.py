from __future__ import annotations

import pytest

from warroom.engines.redaction import Redactor, luhn_valid


def test_secrets_and_personal_data_are_redacted_and_counted() -> None:
    redactor = Redactor()
    text = (
        "Authorization: Bearer abc.def.ghijkl url=postgres://bob:hunter2@db/x api_key=XYZ12345 "
        "mail=alice@example.com card=4111 1111 1111 1111 ip=10.1.2.3"
    )
    out = redactor.redact(text)
    for secret in ("abc.def.ghijkl", "hunter2", "XYZ12345", "alice@example.com", "4111 1111"):
        assert secret not in out
    assert "10.1.2.3" in out  # IPs only on request
    assert dict(redactor.counts) == {
        "bearer": 1, "url-password": 1, "api-key": 1, "email": 1, "card": 1,
    }  # fmt: skip


def test_ips_are_redacted_when_asked() -> None:
    redactor = Redactor(categories=("ip",))
    assert redactor.redact("from 192.168.0.1 to fe80:0:0:0:0:0:0:1") == (
        "from [REDACTED:ip] to [REDACTED:ip]"
    )


def test_ids_and_timestamps_that_fail_luhn_or_issuer_prefix_are_kept() -> None:
    text = "blk_-6952295868487656571 at 1700000000123456789 id 4111111111111112"
    assert Redactor().redact(text) == text
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_unknown_categories_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown redaction categories"):
        Redactor(categories=("passport",))
