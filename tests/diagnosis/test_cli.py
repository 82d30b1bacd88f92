from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from tests.diagnosis.simulated import simulate
from warroom.diagnosis.cli import app

runner = CliRunner()


def _changes(path: Path, onset: float) -> Path:
    when = datetime.fromtimestamp(onset - 60, UTC).isoformat()
    path.write_text(
        f"changes:\n  - id: deploy-1\n    kind: deploy\n    service: backend\n    time: '{when}'\n"
    )  # noqa: E501
    return path


def test_json_output_follows_the_documented_schema(tmp_path: Path) -> None:
    sim = simulate(tmp_path, requests=60)
    out = tmp_path / "report.json"
    changes = _changes(tmp_path / "changes.yaml", sim.onset)
    result = runner.invoke(app, ["analyze", str(sim.frontend), "--source", f"api={sim.backend}",
                                 "--changes", str(changes), "--format", "json", "-o", str(out),
                                 "--reference", "frontend.log"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    source = next(s for s in data["sources"] if s["name"] == "api")
    for key in ("name", "path", "format", "format_confidence", "lines", "reference", "offset_s",
                "offset_interval_s", "drift_ppm", "links", "evidence"):  # fmt: skip
        assert key in source
    assert abs(source["offset_s"] + 600) < 0.05 and source["links"] == 60
    assert data["suspects"][0]["id"] == "deploy-1"
    event = data["events"][0]
    assert set(event) == {"source", "line", "time_observed", "time_corrected", "template_id",
                          "level", "message"}  # fmt: skip
    assert event["time_corrected"].endswith("Z") and "." in event["time_corrected"]
    assert {"assumptions", "onsets", "issues", "redactions"} <= set(data)


def test_every_format_renders(tmp_path: Path) -> None:
    sim = simulate(tmp_path, requests=30)
    for fmt in ("text", "markdown", "html"):
        out = tmp_path / f"r.{fmt}"
        result = runner.invoke(app, ["analyze", str(tmp_path), "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
    html = (tmp_path / "r.html").read_text()
    assert (
        html.count("<svg") == 1
        and "<script" not in html
        and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    )
    assert "Onsets" in (tmp_path / "r.markdown").read_text()
    text = runner.invoke(app, ["analyze", str(sim.frontend), str(sim.backend)]).output
    assert "== Sources and clocks ==" in text and "== Timeline (120 of 120 records) ==" in text


def test_bad_options_fail_cleanly(tmp_path: Path) -> None:
    sim = simulate(tmp_path, requests=5)
    bad_format = runner.invoke(app, ["analyze", str(sim.frontend), "--format", "pdf"])
    assert bad_format.exit_code == 2 and "text, json, markdown, html" in bad_format.output
    bad_rule = runner.invoke(app, ["analyze", str(sim.frontend), "--rule", "nonsense"])
    squashed = "".join(c for c in bad_rule.output if c.isalnum() or c in ":_->")
    assert bad_rule.exit_code == 2 and "SOURCE_A:REGEX_X->SOURCE_B:REGEX_Y" in squashed
    bad_source = runner.invoke(app, ["analyze", "--source", "oops"])
    assert bad_source.exit_code == 2


def test_redaction_is_applied_before_output(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("2024-01-01T00:00:00.000Z INFO login alice@example.com from 10.0.0.7\n")
    result = runner.invoke(app, ["analyze", str(log), "--redact-ips", "--format", "json"])
    data = json.loads(result.output)
    assert data["redactions"] == {"email": 1, "ip": 1}
    assert "alice" not in result.output and "10.0.0.7" not in result.output
