"""Clock offset and drift between log sources, from causal links, with honest intervals.

Why this exists: hosts' clocks disagree by milliseconds to minutes and drift by up to a few
hundred ppm without time sync.  Tracing UIs only repair *visible* violations with a symmetric
latency guess; here every source gets an offset and a drift relative to a reference, an
interval, the evidence, or "unknown" with a reason.

Model: a source's clock reads ``t``; its reading in the reference frame is
``t - offset - drift * (t - T0)`` (``T0`` the epoch of the alignment).  A causal link "event
``a`` in A happens before event ``b`` in B" constrains the pair (B relative to A) to
``offset + drift * x_b <= b - a`` (with ``x_b = b - T0``), and a link the other way gives a
``>=``.  The feasible (offset, drift) set is a convex polygon; as in the linear-programming
estimator of Moon, Skelly and Towsley (1999) and the convex-hull estimator of Duda (1987) only
the hull vertices of the delay points matter, and the estimate is:

* links both ways: the line that stays farthest from both hulls (maximum margin), with the
  interval of offsets over the polygon - two-sided bounds;
* links one way only: Moon's LP (the line under all delays, closest to them), i.e. minimum
  one-way latency treated as zero, and a one-sided interval;
* drift is only fitted when the links span enough time; otherwise it is fixed at 0 and said so.

Timestamp resolution widens each constraint by one tick so that second-granular logs are not
forced into impossible orders.  Links that make the polygon empty (re-used ids, wrong pairing)
are trimmed and counted, never silently kept; the corrected times satisfy every link used.

Which side sends is inferred when not given: nested spans (the caller's first and last lines
for an id enclose the callee's) when only one nesting is feasible, otherwise the source that
originates the identifiers (it holds more distinct ids of that kind), and the choice and its
reason are reported.

All sources are then estimated at once (:mod:`.joint`): one linear program over every source's
(offset, drift), the reference fixed at (0, 0), with every pair's hull points as exact
constraints, so direct and indirect links (A-C as well as A-B-C) bound each source together and
errors do not add up along a path.  The estimate is, per source, the centre of the ranges of its
offset at both ends of its linked span (the point with the least worst-case error against every
clock consistent with the links), moved to the nearest feasible point if needed; the interval is
the offset's range over the feasible set.  If the pairs contradict each other, the pairs of the
narrowest paths are kept and each other pair only if it agrees (the rest are named); if even
those disagree, the pairwise estimates are chained along the narrowest path, as before.
"""

from .fit import fit_pair, hull
from .graph import align
from .model import (
    MIN_LINKS,
    NS,
    Alignment,
    ClockEstimate,
    Occurrence,
    PairInference,
    Precedence,
    SharedId,
)
from .pairs import infer_pairs

__all__ = [
    "MIN_LINKS",
    "NS",
    "Alignment",
    "ClockEstimate",
    "Occurrence",
    "PairInference",
    "Precedence",
    "SharedId",
    "align",
    "fit_pair",
    "hull",
    "infer_pairs",
]
