from __future__ import annotations

import pytest

from warroom.engines.timestamps import (
    ASSUME_MONTH_FIRST,
    ASSUME_UTC,
    NS,
    TimestampParser,
    civil_ns,
    format_ns,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00.123456789+02:00 msg", "2024-05-01T10:00:00.123456789Z"),
        ("2015-10-18 18:01:47,978 INFO [main]", "2015-10-18T18:01:47.978000000Z"),
        ("081109 203615 148 INFO dfs.DataNode", "2008-11-09T20:36:15.000000000Z"),
        ('1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /', "2000-10-10T20:55:36.000000000Z"),
        ("[Wed Oct 11 14:32:52.123 2000] [core:error]", "2000-10-11T14:32:52.123000000Z"),
        ("ts=1700000000123 level=info", "2023-11-14T22:13:20.123000000Z"),
        ("at 1700000000123456789 ns", "2023-11-14T22:13:20.123456789Z"),
        ("2005-06-03-15.42.50.675872 R02-M1", "2005-06-03T15:42:50.675872000Z"),
        ("2024-01-02 03:04:05 PST x", "2024-01-02T11:04:05.000000000Z"),
    ],
)
def test_each_layout_parses_to_utc_nanoseconds(text: str, expected: str) -> None:
    found = TimestampParser(year_hint=2026).search(text)
    assert found is not None
    assert format_ns(found.ns, 9) == expected


def test_syslog_year_is_inferred_and_recorded() -> None:
    parser = TimestampParser(year_hint=2026)
    found = parser.search("Nov 26 21:32:40 host sshd[1]: accepted")
    assert found is not None and format_ns(found.ns, 0).startswith("2026-11-26T21:32:40")
    assert parser.assumptions["no year in the timestamp: 2026 inferred"] == 1
    assert parser.assumptions[ASSUME_UTC] == 1


def test_a_yearless_date_after_the_file_was_written_belongs_to_the_previous_year() -> None:
    ceiling = civil_ns(2027, 1, 2, 0, 0, 0)
    parser = TimestampParser(year_hint=2027, ceiling_ns=ceiling)
    found = parser.search("Dec 31 23:59:59 host app: x")
    assert found is not None and format_ns(found.ns, 0).startswith("2026-12-31")
    assert parser.assumptions["no year in the timestamp: 2026 inferred"] == 1


def test_ambiguous_day_month_order_is_an_assumption() -> None:
    parser = TimestampParser()
    found = parser.search("03/04/2024 10:00:00 started")
    assert found is not None and format_ns(found.ns, 0).startswith("2024-03-04")
    assert parser.assumptions[ASSUME_MONTH_FIRST] == 1


def test_fractions_keep_nanosecond_precision_and_resolution() -> None:
    found = TimestampParser().search("2024-01-01T00:00:00.000000001Z")
    assert found is not None and found.ns % NS == 1 and found.resolution_ns == 1
    coarse = TimestampParser().search("2024-01-01 00:00:00 x")
    assert coarse is not None and coarse.resolution_ns == NS


def test_text_without_a_timestamp_gives_none() -> None:
    assert TimestampParser().search("no time here, only 42 and blk_1234567890123") is None


def test_lines_of_the_same_second_keep_their_own_fraction_and_count_their_assumptions() -> None:
    parser = TimestampParser()
    texts = ["2024-01-01 10:00:00,5 a", "2024-01-01 10:00:00,123456 b", "2024-01-01 10:00:00 c"]
    found = [parser.match_span(text, "iso8601") for text in texts]
    base = civil_ns(2024, 1, 1, 10, 0, 0)
    assert [f[0] if f else None for f in found] == [base + NS // 2, base + 123_456_000, base]
    assert [f[1:] if f else None for f in found] == [(0, 21), (0, 26), (0, 19)]
    precise = parser.match(texts[1], "iso8601")
    assert precise is not None and precise.resolution_ns == 1000
    assert parser.assumptions[ASSUME_UTC] == 4


def test_an_impossible_date_stays_impossible_when_seen_again() -> None:
    parser = TimestampParser()
    assert parser.value_ns("2024-13-01 10:00:00,1") is None
    assert parser.value_ns("2024-13-01 10:00:00,2") is None
    assert parser.value_ns("2024-12-01 10:00:00,2") == civil_ns(2024, 12, 1, 10, 0, 0) + NS // 5


def test_the_year_of_a_yearless_date_at_the_ceiling_depends_on_its_fraction() -> None:
    # The ceiling (plus the one-day grace) falls half-way through 23:59:59 on 31 December.
    ceiling = civil_ns(2026, 12, 30, 23, 59, 59) + NS // 2
    parser = TimestampParser(year_hint=2026, ceiling_ns=ceiling)
    early = parser.value_ns("Dec 31 23:59:59.25 host app: x")
    late = parser.value_ns("Dec 31 23:59:59.75 host app: x")
    assert early == civil_ns(2026, 12, 31, 23, 59, 59) + NS // 4
    assert late == civil_ns(2025, 12, 31, 23, 59, 59) + 3 * NS // 4
