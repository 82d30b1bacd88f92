from __future__ import annotations

from warroom.diagnosis.linking import IdIndex, find_ids
from warroom.engines.clockskew import Occurrence

TRACE = "0af7651916cd43dd8448eb211c80319c"


def test_ids_are_found_by_key_and_by_shape() -> None:
    line = (
        '{"ts": "2026-11-26T20:00:00.002Z", "request_id": "a1b2c3d4e5", "user": 42} '
        f"traceparent: 00-{TRACE}-b7ad6b7169203331-01 blk_-1608999687919862906 "
        "req-3f1c2a9e-1d2e-4f5a-8b9c-0d1e2f3a4b5c com.shop.Items: id 7"
    )
    assert find_ids(line) == [
        ("a1b2c3d4e5", "request-id"),
        (TRACE, "trace-id"),
        ("blk_-1608999687919862906", "block-id"),
        ("req-3f1c2a9e-1d2e-4f5a-8b9c-0d1e2f3a4b5c", "openstack-request"),
    ]


def test_a_bare_key_takes_the_next_token_as_its_value_whatever_it_looks_like() -> None:
    assert find_ids("trace_id : : short1") == [("short1", "trace-id")]
    assert find_ids("x-request-id:\u00a0abcdef") == [("abcdef", "request-id")]
    assert find_ids("request_id=") == []
    # a short token whose value is only separators is not a key (it does not end in "id")
    assert find_ids("xid=: abcdefgh") == []


def test_only_ids_in_two_sources_and_on_few_records_become_links() -> None:
    index = IdIndex()
    for i in range(60):
        index.add(
            "edge",
            1_000 * i,
            f"GET /x rt=0.5 request_id=req-{i:06d}aa tenant 3f1c2a9e-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        )
        index.add(
            "api",
            1_000 * i + 7,
            f"done request_id=req-{i:06d}aa tenant 3f1c2a9e-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        )
    index.add("api", 999_999, "alone request_id=req-unique-1")
    for source in ("edge", "api"):
        index.seal(source)
    assert index.distinct() == {
        "edge": {"request-id": 60, "uuid": 1},
        "api": {"request-id": 61, "uuid": 1},
    }
    links = list(index.drain())
    # newest first; the tenant id is on every record: an entity, not a link
    assert [link.value for link in links] == [f"req-{i:06d}aa" for i in reversed(range(60))]
    first = links[-1]
    assert first.kind == "request-id"
    assert first.sources == {
        "edge": Occurrence(-500_000_000, 0, 2),
        "api": Occurrence(7, 7, 1),
    }
    assert list(index.drain()) == []


def test_a_source_read_again_after_sealing_keeps_one_entry_per_id() -> None:
    index = IdIndex()
    index.add("a", 10, "request_id=abcdef01")
    index.seal("a")
    index.add("b", 20, "request_id=abcdef01")
    index.add("a", 5, "request_id=abcdef01")
    assert index.shared()[0].sources == {"a": Occurrence(5, 10, 2), "b": Occurrence(20, 20, 1)}


def test_a_batch_of_records_gives_the_same_sightings_as_one_record_at_a_time() -> None:
    texts = [
        'GET rt=0.25 {"request_id":',  # a bare key at the end: its value is not in the next record
        "abcdef123456 request_id=feedbeef01",
        "",
        "x\nrequest_id : feedbeef01 trace_id=",
        "blk_-1608999687919862906 done",
    ]
    times = [1_000, 2_000, 3_000, 4_000, 5_000]
    one, many = IdIndex(), IdIndex()
    for ns, text in zip(times, texts, strict=True):
        one.add("a", ns, text)
        one.add("b", ns + 1, text)
    many.add_many("a", times, texts)
    many.add_many("b", [ns + 1 for ns in times], texts)
    assert many.records == one.records == {"a": 5, "b": 5}
    assert many.shared() == one.shared()
    assert [link.value for link in many.shared()] == ["feedbeef01", "blk_-1608999687919862906"]
    assert many.shared()[0].sources["a"] == Occurrence(2_000, 4_000, 2)


def test_a_record_logged_when_its_statement_ended_spans_back_to_its_start() -> None:
    index = IdIndex()
    index.add("api", 0, "query request_id=req-000001ab sent")
    index.add(
        "db",
        3_000_000,
        "[4242] LOG:  duration: 2.500 ms  statement: SELECT 1 /* request_id=req-000001ab */",
    )
    index.add("db", 9_000_000, "[4242] LOG:  statement took long: duration is unknown")
    for source in ("api", "db"):
        index.seal(source)
    [link] = list(index.drain())
    assert link.sources["db"] == Occurrence(500_000, 3_000_000, 2)
