from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.diagnosis.simulated import simulate
from warroom.diagnosis.analyze import AnalyzeOptions, analyze
from warroom.engines.suspects import Change
from warroom.engines.timestamps import NS


def test_a_host_shifted_by_minus_600_s_is_corrected_to_within_50_ms(tmp_path: Path) -> None:
    sim = simulate(tmp_path, backend_offset_s=-600.0)
    deploy = Change("deploy-42", "deploy", "backend", int((sim.onset - 90) * NS), "cart v2")
    flag = Change("flag-7", "feature flag", "frontend", int((sim.onset + 30) * NS), "new ui")
    report = analyze([sim.frontend, sim.backend], options=AnalyzeOptions(changes=(flag, deploy)))
    backend = next(s for s in report.sources if s.name == "backend.log")
    assert backend.clock is not None and backend.clock.status == "estimated"
    lo, hi = backend.clock.interval_s
    assert lo is not None and hi is not None and lo <= -600.0 <= hi
    assert backend.clock.links == 200 and backend.clock.kinds == ("request-id",)
    assert "calls" in backend.clock.reason
    errors = [
        abs(e.corrected_ns / NS - sim.truth[(e.source, e.line)])
        for e in report.events
        if e.corrected_ns
    ]  # noqa: E501
    assert len(errors) == report.events_total == 800
    assert max(errors) < 0.050
    # the stated bound holds the truth (plus the logs' millisecond truncation)
    bound = backend.clock.error_bound_s
    assert bound is not None and max(errors) <= bound + 0.001
    assert report.onsets and report.onsets[0].source == "backend.log"
    assert abs(report.onsets[0].ns / NS - sim.onset) < 5
    assert [s.change.id for s in report.suspects] == ["deploy-42", "flag-7"]


def test_assumptions_and_formats_are_reported_per_source(tmp_path: Path) -> None:
    sim = simulate(tmp_path, requests=40)
    report = analyze([sim.frontend, sim.backend])
    formats = {s.name: s.detection.format for s in report.sources}
    assert formats == {"frontend.log": "json", "backend.log": "log4j"}
    zones = [a for a in report.assumptions if "UTC assumed" in a.text]
    assert [(a.source, a.lines) for a in zones] == [("backend.log", 80)]


def test_events_beyond_max_events_are_counted_not_kept(tmp_path: Path) -> None:
    sim = simulate(tmp_path, requests=40)
    report = analyze([sim.frontend, sim.backend], options=AnalyzeOptions(max_events=10))
    assert len(report.events) == 10 and report.events_total == 160


def test_user_rules_link_sources_without_shared_ids(tmp_path: Path) -> None:
    a = [f"2024-01-01T00:00:{i:02d}.100Z INFO sent batch {i}" for i in range(10)]
    b = [f"2024-01-01T00:10:{i:02d}.300Z INFO got batch {i}" for i in range(10)]
    (tmp_path / "a.log").write_text("\n".join(a) + "\n")
    (tmp_path / "b.log").write_text("\n".join(b) + "\n")
    rule = r"a.log:sent batch (\d+) -> b.log:got batch (\d+)"
    report = analyze([tmp_path / "a.log", tmp_path / "b.log"],
                     options=AnalyzeOptions(reference="a.log", rules=(rule,)))  # fmt: skip
    clock = next(s.clock for s in report.sources if s.name == "b.log")
    assert clock is not None and clock.kinds == ("rule",)
    assert clock.interval_s[1] == pytest.approx(600.2, abs=0.01) and clock.interval_s[0] is None


def test_files_without_timestamps_degrade_with_an_issue(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("first\nsecond\n")
    report = analyze([tmp_path / "notes.txt"])
    assert [(i.kind, i.count) for i in report.issues] == [("no-timestamps", 2)]
    assert [e.message for e in report.events] == ["first", "second"]


def _shift(line: str, seconds: int) -> str:
    moment = datetime.strptime(line[:13], "%y%m%d %H%M%S") + timedelta(seconds=seconds)
    return moment.strftime("%y%m%d %H%M%S") + line[13:]


def test_hdfs_split_into_namenode_and_datanode_hosts(shared_dir: Path, tmp_path: Path) -> None:
    lines = (shared_dir / "data/loghub-2k/HDFS/HDFS_2k.log").read_text().splitlines()
    namenode = [line for line in lines if "FSNamesystem" in line]
    datanode = [_shift(line, -600) for line in lines if "FSNamesystem" not in line]
    (tmp_path / "namenode.log").write_text("\n".join(namenode) + "\n")
    (tmp_path / "datanode.log").write_text("\n".join(datanode) + "\n")
    report = analyze([tmp_path / "namenode.log", tmp_path / "datanode.log"],
                     options=AnalyzeOptions(reference="namenode.log"))  # fmt: skip
    clock = next(s.clock for s in report.sources if s.name == "datanode.log")
    assert clock is not None and clock.status == "estimated" and clock.offset_s is not None
    assert clock.kinds == ("block-id",) and clock.links >= 3
    lo, hi = clock.interval_s
    assert (lo is None or lo <= -600.0) and (hi is None or hi >= -600.0)
    assert abs(clock.offset_s + 600.0) <= 1.0  # one-second timestamps: error within resolution
    assert all(re.match(r"\d{6} \d{6}", line) for line in datanode)
    assert report.onsets


def _oslo(prefix: str, moment: datetime, pid: int, rid: str, text: str) -> str:
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    tenant = "113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -"
    return f"{prefix} {stamp} {pid} INFO nova.compute.manager [{rid} {tenant}] {text}"


def test_openstack_style_logs_with_a_file_name_field_are_aligned(tmp_path: Path) -> None:
    start = datetime(2017, 5, 16)
    api, compute = [], []
    for i in range(60):
        t = start + timedelta(seconds=7 * i)
        rid = f"req-{i:08x}-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
        api.append(_oslo("nova-api.log.1.2017-05-16_13:53:08", t, 25746, rid, "GET /servers"))
        work = t + timedelta(milliseconds=30)
        compute.append(_oslo("nova-compute.log.1.2017-05-16_13:55:31",
                             work - timedelta(seconds=600), 2931, rid, "VM Started"))  # fmt: skip
        compute.append(_oslo("nova-compute.log.1.2017-05-16_13:55:31",
                             work - timedelta(seconds=599.9), 2931, rid, "VM Resumed"))  # fmt: skip
        api.append(_oslo("nova-api.log.1.2017-05-16_13:53:08", t + timedelta(seconds=0.2), 25746,
                         rid, "status: 200 len: 1893 time: 0.2"))  # fmt: skip
    (tmp_path / "nova-api.log").write_text("\n".join(api) + "\n")
    (tmp_path / "nova-compute.log").write_text("\n".join(compute) + "\n")
    report = analyze([tmp_path], options=AnalyzeOptions(reference="nova-api.log"))
    clock = next(s.clock for s in report.sources if s.name == "nova-compute.log")
    assert clock is not None and clock.offset_s == pytest.approx(-600.0, abs=0.05)
    # tenant and user ids are on every line: entities, not links
    assert clock.kinds == ("openstack-request",) and clock.links == 60
