"""Log format detection without configuration, and record parsing with multi-line joining.

Why this exists: responders are handed files in whatever format the system wrote, and they
cannot be asked to configure a parser in the middle of an outage.  Detection therefore scores a
small set of *structural* candidates on a sample of the file and keeps the best one:

* self-describing formats first: JSON lines (common key names, OpenTelemetry log data model
  ``timeUnixNano``/``severityText``/``body``, Elastic Common Schema ``@timestamp``/``log.level``,
  Docker ``{"log","stream","time"}``), logfmt, journald export (``__REALTIME_TIMESTAMP``),
  syslog RFC 5424 and RFC 3164, Common/Combined Log Format access logs, Apache and nginx
  error logs;
* then the general layout that covers log4j/logback, Python logging, OpenStack oslo, Windows CBS,
  Kubernetes CRI and the Loghub systems: *a timestamp at a fixed field position, then an
  optional level word and an optional logger name*.  The timestamp layout and position are
  learnt from the sample, not listed per product, so unseen products with the same shape parse;
* degraded modes: a timestamp anywhere in the line, then plain ordered lines.

A line that does not start a record (a stack-trace frame, ``Caused by:``, a Python traceback) is
joined to the record above it, the record keeping the first line's number.  Detection reports
the chosen format and a confidence (share of the sample parsed, times the specificity of the
format).  Product names such as ``hdfs`` are labels computed from the learnt structure.
"""

from .detection import detect, record_rows, records
from .model import (
    ERROR_LEVELS,
    LEVELS,
    SYSLOG_SEVERITY,
    Detection,
    Fields,
    FoundTime,
    LineFormat,
    Parsed,
    Record,
    Row,
    TimeParser,
    normalise_level,
)
from .positional import split_rest

__all__ = [
    "ERROR_LEVELS",
    "LEVELS",
    "SYSLOG_SEVERITY",
    "Detection",
    "Fields",
    "FoundTime",
    "LineFormat",
    "Parsed",
    "Record",
    "Row",
    "TimeParser",
    "detect",
    "normalise_level",
    "record_rows",
    "records",
    "split_rest",
]
