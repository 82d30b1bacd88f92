"""Chaos Toolkit experiments generated from recurring problem classes.

Why: once the same failure mode has hurt several times, the cheapest next lesson is a rehearsal:
reproduce the failure on purpose, in a controlled window, and check that the service now keeps its
objectives (or that people and alerts now catch it). Writing such an experiment by hand is where
the learning usually stalls, so Warroom drafts one from the problem class.

Method: the experiment follows the Chaos Toolkit experiment format (title, description, tags,
configuration, steady-state hypothesis, method, rollbacks). The steady-state hypothesis checks the
service's indicators: an ``http`` probe on the health URL with tolerance 200, and ``process`` probes
(a short stdlib Python script) that measure the p99 latency and the error rate, each with a
``range`` tolerance taken from the service's objectives. The method picks one fault per
contributing factor of the class (the first factor with a known fault wins): a stopped dependency,
generated load, a configuration change, a clock step, a killed instance, malformed input, or added
network latency. Environment-specific commands sit in the ``configuration`` block, so operators
adapt them with ``chaos run --var`` instead of editing the method. The ``python`` provider is not
used on purpose: ``chaos validate`` imports the module named by a python activity, which would
make the file valid only on hosts that have that extension installed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

# Probe scripts print a fixed-width number: Chaos Toolkit guesses the encoding of a process's
# output, and a short output such as "4.1\n" can be mistaken for UTF-16.

# Measures p99 latency of GET <url> over <samples> requests; prints milliseconds.
_LATENCY_SCRIPT = """\
import sys, time, urllib.request
url, samples = sys.argv[1], int(sys.argv[2])
took = []
for _ in range(samples):
    start = time.monotonic()
    try:
        urllib.request.urlopen(url, timeout=10).read()
    except Exception:
        pass
    took.append((time.monotonic() - start) * 1000.0)
took.sort()
print("%16.6f" % took[min(len(took) - 1, int(0.99 * len(took)))])
"""

# Share of failed GET <url> over <samples> requests; prints a fraction.
_ERROR_RATE_SCRIPT = """\
import sys, urllib.request
url, samples = sys.argv[1], int(sys.argv[2])
failed = 0
for _ in range(samples):
    try:
        urllib.request.urlopen(url, timeout=10).read()
    except Exception:
        failed += 1
print("%16.6f" % (failed / samples))
"""

# Instant value of a PromQL query; prints a number (0 when the result is empty).
_PROMQL_SCRIPT = """\
import json, sys, urllib.parse, urllib.request
base, query = sys.argv[1], sys.argv[2]
url = base.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
result = json.load(urllib.request.urlopen(url, timeout=10))["data"]["result"]
print("%16.6f" % (float(result[0]["value"][1]) if result else 0.0))
"""

# Sends <workers> parallel request loops to <url> for <seconds>. The marker comment lets the
# rollback find a generator that outlived the run.
_LOAD_SCRIPT = """\
# warroom-chaos-load
import sys, threading, time, urllib.request
url, seconds, workers = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + seconds
def hammer():
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()
        except Exception:
            pass
threads = [threading.Thread(target=hammer) for _ in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


@dataclass(frozen=True)
class ServiceIndicators:
    """What "healthy" means for the service under test.

    Attributes:
        service: Service name, used in activity names and tags.
        health_url: URL that answers 200 when the service is up.
        latency_p99_ms: Objective for the 99th percentile latency of the health URL.
        error_rate_max: Highest acceptable share of failed requests (0..1).
        prometheus_url: Base URL of a Prometheus-compatible API, when the service has one.
        error_rate_query: PromQL returning the current error ratio; used with ``prometheus_url``.
    """

    service: str
    health_url: str
    latency_p99_ms: float = 500.0
    error_rate_max: float = 0.01
    prometheus_url: str | None = None
    error_rate_query: str | None = None

    def __post_init__(self) -> None:
        if not self.service.strip():
            raise ValueError("service name is required")
        if not re.match(r"^https?://", self.health_url):
            raise ValueError(f"health_url must be an http(s) URL, got {self.health_url!r}")
        if self.latency_p99_ms <= 0 or not 0 <= self.error_rate_max <= 1:
            raise ValueError("latency objective must be positive and error rate within [0, 1]")


@dataclass(frozen=True)
class RecurringProblem:
    """A recurring problem class, as the experiment needs it.

    Attributes:
        title: Short name of the class, for example "Expired TLS certificates".
        summary: What keeps happening, in a sentence or two.
        factors: Contributing-factor keys (taxonomy keys such as "dependency", "capacity").
        incidents: References of the incidents in the class, for traceability.
        dependency: The dependency to disturb (a systemd unit or container name), if known.
    """

    title: str
    summary: str
    factors: tuple[str, ...]
    incidents: tuple[str, ...] = ()
    dependency: str | None = None


@dataclass(frozen=True)
class _Fault:
    kind: str
    method: list[JSON]
    rollbacks: list[JSON]
    configuration: JSON


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "service"


def _process(name: str, kind: str, path: str, arguments: list[str], timeout: int = 60) -> JSON:
    return {
        "type": kind,
        "name": name,
        "provider": {"type": "process", "path": path, "arguments": arguments, "timeout": timeout},
    }


def _shell(name: str, command_key: str) -> JSON:
    # The command itself lives in the configuration block so it can be overridden per run.
    return _process(name, "action", "sh", ["-c", f"${{{command_key}}}"])


def _steady_state(ind: ServiceIndicators, samples: int) -> JSON:
    slug = _slug(ind.service)
    probes: list[JSON] = [
        {
            "type": "probe",
            "name": f"{slug}-health-answers-200",
            "tolerance": 200,
            "provider": {"type": "http", "url": ind.health_url, "timeout": 5},
        },
        {
            **_process(
                f"{slug}-p99-latency-within-objective",
                "probe",
                "python3",
                ["-c", _LATENCY_SCRIPT, ind.health_url, str(samples)],
            ),
            "tolerance": {"type": "range", "range": [0, ind.latency_p99_ms], "target": "stdout"},
        },
    ]
    if ind.prometheus_url and ind.error_rate_query:
        args = ["-c", _PROMQL_SCRIPT, ind.prometheus_url, ind.error_rate_query]
    else:
        args = ["-c", _ERROR_RATE_SCRIPT, ind.health_url, str(samples)]
    probes.append(
        {
            **_process(f"{slug}-error-rate-within-objective", "probe", "python3", args),
            "tolerance": {"type": "range", "range": [0, ind.error_rate_max], "target": "stdout"},
        }
    )
    return {
        "title": f"{ind.service} keeps its health, latency and error objectives",
        "probes": probes,
    }


def _command_fault(kind: str, action: str, fault: str, rollback: str, pause: int) -> _Fault:
    method = [_shell(action, "fault_command")]
    method[0]["pauses"] = {"after": pause}
    return _Fault(
        kind=kind,
        method=method,
        rollbacks=[_shell(f"undo-{action}", "rollback_command")],
        configuration={"fault_command": fault, "rollback_command": rollback},
    )


def _dependency_fault(problem: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    dep = problem.dependency or f"{_slug(ind.service)}-dependency"
    return _command_fault(
        "stop-dependency",
        f"stop-dependency-{_slug(dep)}",
        f"systemctl stop {dep}",
        f"systemctl start {dep}",
        pause,
    )


def _load_fault(_: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    load = _process(
        f"generate-load-on-{_slug(ind.service)}",
        "action",
        "python3",
        ["-c", _LOAD_SCRIPT, ind.health_url, str(pause), "${load_workers}"],
        timeout=pause + 30,
    )
    # The load stops by itself; the rollback only makes sure no generator outlives the run.
    stop = _process("stop-load-generators", "action", "sh", ["-c", "${rollback_command}"])
    # the bracket keeps pkill from matching the shell that runs it
    rollback = "pkill -f '[w]arroom-chaos-load' || true"
    return _Fault("load", [load], [stop], {"load_workers": 50, "rollback_command": rollback})


def _config_fault(_: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    path = f"/etc/{_slug(ind.service)}/config.yaml"
    return _command_fault(
        "config-change",
        "apply-risky-configuration-change",
        f"cp {path} {path}.warroom-backup && cp {path}.chaos {path} && "
        f"systemctl reload {_slug(ind.service)}",
        f"cp {path}.warroom-backup {path} && systemctl reload {_slug(ind.service)}",
        pause,
    )


def _clock_fault(_: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    return _command_fault(
        "clock-step",
        f"step-clock-forward-on-{_slug(ind.service)}-host",
        "systemctl stop chronyd && date -s '+1 day'",
        "systemctl start chronyd && chronyc makestep",
        pause,
    )


def _instance_fault(_: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    unit = _slug(ind.service)
    return _command_fault(
        "kill-instance",
        f"kill-one-{unit}-instance",
        f"systemctl kill --signal=SIGKILL {unit}",
        f"systemctl start {unit}",
        pause,
    )


def _input_fault(_: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    action: JSON = {
        "type": "action",
        "name": f"send-malformed-payload-to-{_slug(ind.service)}",
        "provider": {
            "type": "http",
            "url": ind.health_url,
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "arguments": {"payload": "{not json", "id": None},
            "timeout": 10,
        },
        "pauses": {"after": pause},
    }
    return _Fault("malformed-input", [action], [], {})


def _latency_fault(_: RecurringProblem, __: ServiceIndicators, pause: int) -> _Fault:
    fault = _command_fault(
        "network-latency",
        "add-network-latency",
        "tc qdisc add dev ${interface} root netem delay 300ms 50ms",
        "tc qdisc del dev ${interface} root netem",
        pause,
    )
    return _Fault(
        fault.kind, fault.method, fault.rollbacks, {"interface": "eth0", **fault.configuration}
    )


_FaultBuilder = Callable[[RecurringProblem, ServiceIndicators, int], _Fault]

FAULTS_BY_FACTOR: dict[str, _FaultBuilder] = {
    "dependency": _dependency_fault,
    "capacity": _load_fault,
    "change": _config_fault,
    "time": _clock_fault,
    "hardware": _instance_fault,
    "data": _input_fault,
    "detection": _latency_fault,
}


def _choose_fault(problem: RecurringProblem, ind: ServiceIndicators, pause: int) -> _Fault:
    for factor in problem.factors:
        builder = FAULTS_BY_FACTOR.get(factor)
        if builder is not None:
            return builder(problem, ind, pause)
    # Process and human-factor classes have no direct fault; latency is a useful game day.
    return _latency_fault(problem, ind, pause)


def build_experiment(
    problem: RecurringProblem,
    indicators: ServiceIndicators,
    *,
    duration_seconds: int = 60,
    samples: int = 20,
) -> JSON:
    """Draft a Chaos Toolkit experiment that rehearses ``problem`` on the service.

    Args:
        problem: The recurring problem class.
        indicators: Health URL and objectives of the service under test.
        duration_seconds: How long the fault is held before the hypothesis is checked again.
        samples: Requests per latency and error-rate probe.

    Returns:
        A JSON-serialisable dict in the Chaos Toolkit experiment format.
    """
    if duration_seconds <= 0 or samples <= 0:
        raise ValueError("duration_seconds and samples must be positive")
    fault = _choose_fault(problem, indicators, duration_seconds)
    incidents = ", ".join(problem.incidents) or "none recorded"
    tags = list(dict.fromkeys(["warroom", _slug(indicators.service), *problem.factors]))
    return {
        "version": "1.0.0",
        "title": f"{problem.title}: does {indicators.service} withstand it now?",
        "description": (
            f"{problem.summary} Generated by Warroom from a recurring problem class "
            f"(incidents: {incidents}). Fault: {fault.kind}. Review the configuration block "
            "before running, and run it in an agreed window."
        ),
        "tags": tags,
        "configuration": fault.configuration,
        "extensions": [
            {
                "name": "warroom",
                "problem_class": problem.title,
                "factors": list(problem.factors),
                "incidents": list(problem.incidents),
                "fault": fault.kind,
            }
        ],
        "steady-state-hypothesis": _steady_state(indicators, samples),
        "method": fault.method,
        "rollbacks": fault.rollbacks,
    }
