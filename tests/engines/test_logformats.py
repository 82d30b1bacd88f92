from __future__ import annotations

import json
from pathlib import Path

import pytest

from warroom.engines.logformats import detect, records
from warroom.engines.logformats.structured import JsonFormat, LogfmtFormat
from warroom.engines.timestamps import TimestampParser

LOGHUB = ("BGL", "HDFS", "HPC", "Hadoop", "Spark", "Thunderbird", "Windows", "Zookeeper")


@pytest.mark.parametrize("system", LOGHUB)
def test_every_loghub_system_is_detected_with_timestamps(shared_dir: Path, system: str) -> None:
    path = shared_dir / "data" / "loghub-2k" / system / f"{system}_2k.log"
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    detection, fmt = detect(lines[:200], TimestampParser(year_hint=2026))
    assert detection.confidence >= 0.9
    assert detection.format not in ("plain", "timestamp-anywhere")
    parsed = list(records(enumerate(lines, 1), fmt))
    assert sum(r.ns is not None for r in parsed) >= 0.99 * len(parsed)


def _detect(lines: list[str]) -> str:
    return detect(lines, TimestampParser(year_hint=2026))[0].format


def test_json_variants_are_named() -> None:
    otel = {"timeUnixNano": 1700000000000000000, "severityText": "ERROR", "body": "boom"}
    ecs = {"@timestamp": "2024-01-01T00:00:00Z", "log.level": "info", "message": "m", "ecs": {}}
    docker = {"log": "hello\n", "stream": "stdout", "time": "2024-01-01T00:00:00.1Z"}
    assert _detect([json.dumps(otel)] * 3) == "json/opentelemetry"
    assert _detect([json.dumps(ecs)] * 3) == "json/ecs"
    assert _detect([json.dumps(docker)] * 3) == "json/docker"
    detection, fmt = detect([json.dumps(otel)], TimestampParser())
    record = next(records([(1, json.dumps(otel))], fmt))
    assert record.level == "ERROR" and record.message == "boom" and record.ns is not None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('time=2024-01-01T00:00:00Z level=warn msg="disk slow" dev=sda', "logfmt"),
        ("<34>1 2024-01-01T00:00:00.1Z host app 12 ID47 - login failed", "syslog-rfc5424"),
        ("<34>Nov 26 21:32:40 host sshd[42]: Failed password for root", "syslog-rfc3164"),
        (
            '10.0.0.1 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "curl"',
            "access-log",
        ),  # noqa: E501
        ("2024/01/02 03:04:05 [error] 12#0: *1 connect() failed", "nginx-error"),
        ("[Wed Oct 11 14:32:52.123 2024] [core:error] [pid 1] AH00037: x", "apache-error"),
        ("2024-01-01 12:00:00,123 - app.db - ERROR - query failed", "python-logging"),
        (
            "2024-01-01 12:00:00.123 4242 INFO nova.compute.manager [req-1 - -] Started",
            "openstack-oslo",
        ),  # noqa: E501
        ("2024-01-01T00:00:00.123456789Z stdout F hello", "kubernetes-cri"),
    ],
)
def test_common_formats_are_recognised(line: str, expected: str) -> None:
    assert _detect([line] * 5) == expected


def test_journald_export_blocks_become_records() -> None:
    block = ["__CURSOR=s=1", "__REALTIME_TIMESTAMP=1700000000123456", "PRIORITY=3",
             "SYSLOG_IDENTIFIER=kernel", "MESSAGE=oops", ""]  # fmt: skip
    lines = block * 3
    detection, fmt = detect(lines, TimestampParser())
    parsed = list(records(enumerate(lines, 1), fmt))
    assert detection.format == "journald-export"
    assert [r.line for r in parsed] == [1, 7, 13]
    assert parsed[0].level == "ERROR" and parsed[0].message == "oops"


def test_stack_traces_join_their_first_line() -> None:
    lines = [
        "2024-01-01 00:00:00,001 ERROR [main] com.x.Y: failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.x.Y.run(Y.java:10)",
        "2024-01-01 00:00:01,001 INFO [main] com.x.Y: recovered",
    ]
    detection, fmt = detect(lines * 3, TimestampParser())
    parsed = list(records(enumerate(lines, 1), fmt))
    assert [r.line for r in parsed] == [1, 4]
    assert parsed[0].extra_lines == 2 and "Y.java:10" in parsed[0].text


def test_unknown_layout_degrades_to_timestamp_anywhere_then_plain() -> None:
    odd = [f"{i} {'word ' * (i % 4)}event at 2024-01-01T00:00:0{i}Z" for i in range(8)]
    assert _detect(odd) == "timestamp-anywhere"
    detection, _ = detect(["hello", "world"], TimestampParser())
    assert detection.format == "plain" and detection.confidence <= 0.3


def test_logfmt_pairs_are_found_around_a_very_long_word() -> None:
    fmt = LogfmtFormat(TimestampParser())
    line = "time=2024-01-01T00:00:00Z 9" + "y" * 65_000 + ' x.y=1 level=warn msg="a b" 1key=v'
    fields = fmt.fields(line)
    assert fields is not None and fields[1:] == ("WARN", None, "a b")
    assert fmt.fields("y" * 65_000) is None


def test_a_lone_surrogate_escape_in_json_becomes_a_question_mark() -> None:
    line = (
        '{"ts": "2024-01-01T00:00:00Z", "logger": "a\\udc00", "msg": "bad \\ud800 \\ud83d\\ude00"}'
    )
    fields = JsonFormat(TimestampParser()).fields(line)
    assert fields is not None and fields[2:] == ("a?", "bad ? \U0001f600")
