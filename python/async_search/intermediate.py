"""Report intermediate values (a learning curve) to async-search's stopper.

A model that reports, e.g. after each epoch, lets ``--stopper asha|median``
end hopeless trainings early::

    from async_search import report_intermediate
    for epoch in range(1, epochs + 1):
        ...train one epoch...
        report_intermediate(epoch, val_loss)

The line it prints, ``IMPROVE_INTERMEDIATE <step> <value>``, is the whole
protocol: any model in any language may print it itself. Steps are positive
whole numbers that rise (e.g. the epoch); lower values are better, as for the
objective. The last ``IMPROVE_RESULT <value>`` line still gives the final
objective. Standard library only: cheap to import in every model process.
"""

from __future__ import annotations

import math
import sys

__all__ = ["TAG", "report_intermediate"]

TAG = "IMPROVE_INTERMEDIATE"


def report_intermediate(step: int, value: float, stream=None) -> None:
    """Print ``IMPROVE_INTERMEDIATE <step> <value>`` and flush, so the worker reads it
    at once. ``step`` must be a positive integer and ``value`` a finite number
    (ValueError otherwise: a malformed line would only be ignored)."""
    if isinstance(step, bool) or int(step) != step or step < 1:
        raise ValueError(f"report_intermediate: step {step!r} must be a whole number >= 1")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"report_intermediate: value {value!r} is not finite")
    out = sys.stdout if stream is None else stream
    out.write(f"{TAG} {int(step)} {value!r}\n")
    out.flush()
