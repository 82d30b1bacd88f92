"""Log template mining: variable types, grouping, streaming API, state, and properties."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from warroom.engines.logtemplates import (
    MAX_LINE_CHARS,
    MinerConfig,
    Parameter,
    TemplateMiner,
    mine_templates,
)
from warroom.engines.logtemplates.groups import mask
from warroom.engines.logtemplates.layout import mask_cached
from warroom.engines.logtemplates.tokens import LITERAL, split_message


def _regex(template: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in template.split("<*>")), re.S)


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _kinds(message: str) -> list[tuple[str, str]]:
    match = TemplateMiner().add(message, timestamp=0.0)
    return [(p.kind, p.value) for p in match.parameters]


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("Served block to 10.250.19.102:50010", "Served block to <*>:<*>"),
        ("src: /10.250.19.102:54106 dest: /10.250.19.102:50010", "src: <*>:<*> dest: <*>:<*>"),
        ("took 12ms to flush", "took <*> to flush"),
        ("estimated size 93.0 B, free 317.1 KB", "estimated size <*> B, free <*> KB"),
        ("wrote 12KB", "wrote <*>"),
        ("opened /var/log/app.log for writing", "opened <*> for writing"),
        ("result 0x80004005 returned", "result <*> returned"),
        ("deleting blk_-1608999687919862906", "deleting <*>"),
        ("session d16d444c-56d8-11d5-882d-0080c847b195 started", "session <*> started"),
        (
            "Connecting to driver: spark://Scheduler@10.10.34.11:48069",
            "Connecting to driver: spark://<*>",
        ),
        ("lease from 00:11:43:e3:ba:c3 via eth1", "lease from <*> via eth1"),
        ("listening on fe80::1ff:fe23:4567:890a", "listening on <*>"),
        ("retries=3 timeout=30", "retries=<*> timeout=<*>"),
        ("starting executor on host mesos-slave-07", "starting executor on host <*>"),
        ("generating core.2275", "generating core.<*>"),
        ("node node-69 is down", "node node-<*> is down"),
        ("session opened for user alice", "session opened for user <*>"),
        ("msgid=<200511091901.jA9J1UvC004306@eadmin1> queued", "msgid=<<*>> queued"),
        ("status=M Thu Aug 04 15:29:45 PDT 2005", "status=M <*>"),
        ("coldpatching=FALSE applied", "coldpatching=<*> applied"),
        (
            "loaded properties from hadoop-metrics2.properties",
            "loaded properties from hadoop-metrics2.properties",
        ),
        ("no free leases", "no free leases"),
    ],
)
def test_each_variable_type_becomes_a_wildcard_and_fixed_words_stay(
    message: str, template: str
) -> None:
    assert mine_templates([message]) == [template]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("to 10.0.0.1:8080", [("ip", "10.0.0.1"), ("number", "8080")]),
        ("in 3ms", [("duration", "3ms")]),
        ("size 12 KB", [("number", "12")]),
        ("file /etc/hosts", [("path", "/etc/hosts")]),
        ("url hdfs://nn:9000/a/b", [("url", "nn:9000/a/b")]),
        (
            "id 9f1c2e3a-0b1c-4d2e-8f9a-0123456789ab",
            [("uuid", "9f1c2e3a-0b1c-4d2e-8f9a-0123456789ab")],
        ),
        ("mask 0xff83e97c", [("hex", "0xff83e97c")]),
        ("mail from joe7@example.org", [("email", "joe7@example.org")]),
        ("host web-prod-12 up", [("host", "web-prod-12")]),
        ("addr 2001:db8::1 up", [("ip", "2001:db8::1")]),
    ],
)
def test_parameters_carry_the_recognised_kind(
    message: str, expected: list[tuple[str, str]]
) -> None:
    assert _kinds(message) == expected


def test_a_name_that_varies_becomes_a_variable_while_a_fixed_one_stays() -> None:
    lines = [f"worker {name}{n} ready" for n, name in enumerate(["alpha", "bravo", "delta"])] + [
        "link up on eth1",
        "link up on eth1",
    ]
    out = mine_templates(lines)
    assert out[0] == "worker <*> ready"
    assert out[-1] == "link up on eth1"


def test_a_unit_stays_text_until_it_varies_then_joins_its_number() -> None:
    lines = ["stored 93.0 B, free 317.1 KB", "stored 5.2 KB, free 5.2 KB"]
    assert set(mine_templates(lines)) == {"stored <*>, free <*> KB"}
    miner = TemplateMiner()
    miner.add(lines[0], timestamp=0.0)
    match = miner.add(lines[1], timestamp=1.0)
    assert match.parameters == (Parameter("size", "5.2 KB"), Parameter("number", "5.2"))


def test_fixed_state_words_keep_templates_apart() -> None:
    lines = [
        "task_1 Transitioned from NEW to INITED",
        "task_2 Transitioned from INITED to RUNNING",
        "task_3 Transitioned from RUNNING to SUCCEEDED",
    ]
    assert len(set(mine_templates(lines))) == 3


def test_a_word_with_many_values_merges_into_one_template() -> None:
    lines = [f"removing {name}" for name in ("echo", "time", "chargen", "ntalk", "printer")]
    assert set(mine_templates(lines)) == {"removing <*>"}


def test_lists_of_varying_length_collapse_into_one_variable() -> None:
    ids = [f"blk_{n}{n}{n}{n}" for n in range(1, 10)]
    lines = [f"delete {' '.join(ids[:2])}", f"delete {' '.join(ids[2:6])}", f"delete {ids[6]}"]
    assert set(mine_templates(lines)) == {"delete <*>"}


def test_streaming_ids_stay_stable_while_the_template_refines() -> None:
    miner = TemplateMiner()
    first = miner.add("worker alpha1 ready", timestamp=0.0)
    second = miner.add("worker bravo2 ready", timestamp=1.0)
    assert first.template == "worker alpha1 ready"
    assert second.template == "worker <*> ready"
    assert first.template_id == second.template_id
    assert second.parameters == (Parameter("word", "bravo2"),)
    assert miner.remap() == {}


def test_remap_reports_ids_folded_by_a_merge_once() -> None:
    miner = TemplateMiner()
    ids = [miner.add(f"removing {n}", timestamp=0.0).template_id for n in ("a", "b", "c", "d")]
    mapping = miner.remap()
    survivor = miner.add("removing e", timestamp=0.0).template_id
    assert set(mapping.values()) == {survivor}
    assert set(ids) - {survivor} <= set(mapping)
    assert miner.remap() == {}


def test_counts_over_time_sum_buckets_into_windows() -> None:
    miner = TemplateMiner(MinerConfig(bucket_s=60.0))
    for ts in (0.0, 30.0, 61.0, 200.0):
        tid = miner.add("GC pause 12ms", timestamp=ts).template_id
    assert miner.counts_over_time(tid, 120.0) == [(0.0, 3), (120.0, 1)]
    (info,) = miner.templates()
    assert (info.count, info.first_seen, info.last_seen) == (4, 0.0, 200.0)


def test_state_round_trips_through_json() -> None:
    miner = TemplateMiner()
    for n in range(20):
        miner.add(f"request {n} served in {n}ms from 10.0.0.{n}", timestamp=float(n))
    miner.add("worker alpha1 ready", timestamp=5.0)
    restored = TemplateMiner.from_state(json.loads(json.dumps(miner.to_state())))
    assert restored.templates() == miner.templates()
    again = restored.add("request 99 served in 1ms from 10.0.0.1", timestamp=30.0)
    assert again.template == "request <*> served in <*> from <*>"


def test_merging_two_workers_equals_mining_in_one() -> None:
    lines = [f"job {n} done on node-{n % 3} in {n}s" for n in range(12)] + [
        f"removing {w}" for w in ("a", "b", "c", "d", "e")
    ]
    single, left, right = TemplateMiner(), TemplateMiner(), TemplateMiner()
    for n, line in enumerate(lines):
        single.add(line, timestamp=float(n))
        (left if n % 2 else right).add(line, timestamp=float(n))
    left.merge(right)
    as_text = sorted((t.template, t.count) for t in left.templates())
    assert as_text == sorted((t.template, t.count) for t in single.templates())


def test_merge_returns_the_ids_that_changed() -> None:
    left, right = TemplateMiner(), TemplateMiner()
    before = {left.add(f"removing {w}", timestamp=0.0).template_id for w in ("a", "b")}
    for w in ("c", "d"):
        right.add(f"removing {w}", timestamp=0.0)
    mapping = left.merge(right)
    (survivor,) = {t.template_id for t in left.templates()}
    assert all(mapping.get(old, old) == survivor for old in before)


def test_loading_a_state_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported miner state version"):
        TemplateMiner.from_state({"version": 99, "groups": []})


def test_lines_over_the_limit_are_truncated_and_flagged() -> None:
    miner = TemplateMiner()
    match = miner.add("x1 " * MAX_LINE_CHARS, timestamp=0.0)
    assert match.truncated
    assert not miner.add("short line", timestamp=0.0).truncated
    assert len(mine_templates(["y2 " * MAX_LINE_CHARS])[0]) <= MAX_LINE_CHARS


def test_adversarial_long_tokens_finish() -> None:
    nasty = [
        "1" * 5000 + "z",
        "a" * 3000 + "@" + "b" * 1000,
        "x" * 3000 + ":" + "y" * 1000,
        ":".join(["1"] * 2000),
        "<*>" * 1000,
        "",
        "   ",
        "\x00\x01\x02",
    ]
    assert len(mine_templates(nasty)) == len(nasty)


_WORDS = st.sampled_from(
    ["GET", "served", "to", "in", "ms", "user", "root", "KB", "error:", "eth1", "from", "(ok)"]
)
_VALUES = st.one_of(
    st.integers(-(10**6), 10**12).map(str),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.uuids().map(str),
    st.from_regex(r"/[a-z]{1,5}(/[a-z0-9._-]{1,6}){0,3}", fullmatch=True),
    st.from_regex(r"0x[0-9a-f]{2,10}", fullmatch=True),
    st.from_regex(r"[a-z]{1,4}[0-9]{1,4}(:[0-9]{2,5})?", fullmatch=True),
    st.from_regex(r"[a-z]{2,6}=[0-9a-z.]{1,6}", fullmatch=True),
)
_STRUCTURED = st.lists(st.one_of(_WORDS, _VALUES), min_size=0, max_size=12).map(" ".join)
_JUNK = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
)
_LINES = st.lists(st.one_of(_STRUCTURED, _STRUCTURED, _JUNK), min_size=1, max_size=30)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINES)
@example(lines=["0 GET", "0 0", "0 0 0"])
def test_every_template_matches_every_message_it_was_given_to(lines: list[str]) -> None:
    for line, template in zip(lines, mine_templates(lines), strict=True):
        assert _regex(_normalised(template)).fullmatch(_normalised(line)), (line, template)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINES)
def test_output_is_deterministic(lines: list[str]) -> None:
    assert mine_templates(lines) == mine_templates(list(lines))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_LINES)
# "0 0" merged with "<*> GET" as "<*> <*>", then "0 0 0" made its list one "<*>" (one word).
@example(lines=["0 GET", "0 0", "0 0 0"])
def test_streaming_templates_match_their_lines_and_survive_a_state_round_trip(
    lines: list[str],
) -> None:
    miner = TemplateMiner()
    for n, line in enumerate(lines):
        match = miner.add(line, timestamp=float(n))
        assert _regex(_normalised(match.template)).fullmatch(_normalised(line))
    restored = TemplateMiner.from_state(json.loads(json.dumps(miner.to_state())))
    assert restored.templates() == miner.templates()
    assert sum(t.count for t in restored.templates()) == len(lines)


@settings(max_examples=25, deadline=None)
@given(st.one_of(_STRUCTURED, _JUNK))
def test_segments_cover_each_word_exactly_so_the_shape_cache_is_safe(line: str) -> None:
    for word in line.split():
        found = split_message(word)
        assert "".join(text for _, text in found) == word
        shape = word.translate(str.maketrans("123456789", "111111111"))
        shaped = split_message(shape)
        assert [(k, len(t)) for k, t in shaped] == [(k, len(t)) for k, t in found]


def test_a_cluster_whose_members_changed_word_count_still_matches_every_line() -> None:
    # "0 0" joins "<*> GET" while both have two words; "0 0 0" then makes its list one <*>.
    lines = ["0 GET", "0 0", "0 0 0"]
    miner = TemplateMiner()
    matches = [miner.add(line, timestamp=0.0) for line in lines]
    assert len({m.template_id for m in matches}) == 1
    for line, match in zip(lines, matches, strict=True):
        assert _regex(match.template).fullmatch(line), (line, match.template)
    assert mine_templates(lines) == ["<*>"] * 3


def test_process_parallel_masking_gives_the_serial_result() -> None:
    lines = [f"job {n} took {n % 7}ms on host-{n % 3}.lab.example.com" for n in range(300)]
    lines += [f"removing {w}" for w in ("echo", "time", "chargen", "ntalk")]
    assert mine_templates(lines, workers=2) == mine_templates(lines, workers=1)


def test_a_config_with_a_non_positive_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="bucket_s must be positive"):
        MinerConfig(bucket_s=0)


def _reshuffle_digits(line: str, seed: int) -> str:
    """Same digit shape (1-9 stay 1-9, 0 stays 0), different values."""
    return "".join(str((int(c) + seed) % 9 + 1) if c in "123456789" else c for c in line)


@settings(max_examples=25, deadline=None)
@given(st.one_of(_STRUCTURED, _JUNK), st.integers(0, 8))
def test_masking_through_the_shape_cache_equals_full_masking(line: str, seed: int) -> None:
    other = _reshuffle_digits(line, seed)
    mask_cached(line)
    cached, full = mask_cached(other), mask(other)
    assert (cached.key, cached.weak_values, cached.run_lengths) == (
        full.key,
        full.weak_values,
        full.run_lengths,
    )
    variables = [s for s in cached.segments if s[0] != LITERAL]
    assert variables == [s for s in full.segments if s[0] != LITERAL]
