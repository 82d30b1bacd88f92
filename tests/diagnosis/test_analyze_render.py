from __future__ import annotations

import io
import json
from pathlib import Path

from warroom.diagnosis.analyze import analyze
from warroom.diagnosis.render import event_json, write_json
from warroom.diagnosis.timeline import EventStore, MessageText

TRICKY = [
    '2024-01-01T00:00:00.000001Z ERROR app: quote " backslash \\ tab \t bell \x07 caf\u00e9 \u2028',
    "2024-01-01T00:00:00.999999Z INFO app: second line",
    "\tat com.x.Y.run(Y.java:10)",
    "1999-12-31T23:59:59.5Z WARN app: before the epoch of the others",
]


def test_json_events_are_exactly_what_json_dumps_would_write(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("\n".join(TRICKY) + "\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("no time here\nnor here\n", encoding="utf-8")
    report = analyze([tmp_path])
    out = io.StringIO()
    write_json(report, out)
    text = out.getvalue()
    lines = text.split('"events": [\n', 1)[1].rsplit("\n  ]", 1)[0].split(",\n")
    assert lines == ["    " + json.dumps(event_json(e), ensure_ascii=False) for e in report.events]
    document = json.loads(text)
    # records without a time come first (before the first record of their source)
    assert [(e["source"], e["line"]) for e in document["events"]] == [
        ("notes.txt", 1), ("notes.txt", 2), ("a.log", 4), ("a.log", 1), ("a.log", 2),
    ]  # fmt: skip
    assert document["events"][0]["time_observed"] is None
    assert document["events"][2]["time_observed"] == "1999-12-31T23:59:59.500000Z"
    assert document["events"][3]["message"].endswith("\u2028")
    assert document["events"][4]["message"] == "app: second line\n\tat com.x.Y.run(Y.java:10)"


def test_kept_messages_come_back_exactly_from_the_compact_store() -> None:
    store = EventStore()
    messages = ["", "plain", "caf\u00e9 \U0001f600", "lone \ud800 surrogate", "x" * 70_000]
    for i, message in enumerate(messages):
        store.add(0, i + 1, None if i % 2 else 10 * i, None, "INFO", message)
    assert [store.message(i) for i in range(len(store))] == messages
    timeline = store.freeze(["a.log"], lambda _index, _observed: None)
    assert sorted(e.message for e in timeline) == sorted(messages)


MESSAGES = ["", "plain", "caf\u00e9 \U0001f600", "", "lone \ud800 surrogate", "z" * 40, "end"]


def test_messages_past_the_memory_budget_are_read_back_from_a_temporary_file() -> None:
    text = MessageText(spill_bytes=16)
    for message in MESSAGES:
        text.append(message)
    assert text.spilled > 0
    assert [text.message(row) for row in range(len(text))] == MESSAGES


def test_messages_stay_in_memory_when_the_temporary_file_cannot_be_written(
    tmp_path: Path,
) -> None:
    text = MessageText(spill_bytes=16, directory=str(tmp_path / "missing"))
    for message in MESSAGES:
        text.append(message)
    assert text.spilled == 0
    assert [text.message(row) for row in range(len(text))] == MESSAGES
