"""Report intermediate values (a learning curve) to async-search's stopper.

A model that reports, e.g. after each epoch, lets ``--stopper asha|median``
end hopeless trainings early::

    from async_search import report_intermediate
    for epoch in range(1, epochs + 1):
        ...train one epoch...
        report_intermediate(epoch, val_loss, last_step=epochs)

The line it prints, ``IMPROVE_INTERMEDIATE <step> <value> [<last step>]``, is
the whole protocol: any model in any language may print it itself. Steps are
positive whole numbers that rise (e.g. the epoch); lower values are better, as
for the objective. The optional last step says where the training ends (e.g.
the number of epochs): the stopper never stops a training there or later, so
its own final result counts (without it, the stopper assumes the length of the
longest evaluation that ran to its end, or ``--stopper-max-step``). The last
``IMPROVE_RESULT <value>`` line still gives the final objective. Standard
library only: cheap to import in every model process.
"""

from __future__ import annotations

import math
import sys

__all__ = ["TAG", "report_intermediate"]

TAG = "IMPROVE_INTERMEDIATE"


def report_intermediate(step: int, value: float, stream=None, last_step=None) -> None:
    """Print ``IMPROVE_INTERMEDIATE <step> <value> [<last_step>]`` and flush, so the
    worker reads it at once. ``step`` must be a positive integer, ``value`` a finite
    number and ``last_step`` (the step the training ends at), when given, a whole
    number >= step (ValueError otherwise: a malformed line would only be ignored)."""
    if isinstance(step, bool) or int(step) != step or step < 1:
        raise ValueError(f"report_intermediate: step {step!r} must be a whole number >= 1")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"report_intermediate: value {value!r} is not finite")
    end = ""
    if last_step is not None:
        if isinstance(last_step, bool) or int(last_step) != last_step or last_step < step:
            raise ValueError(f"report_intermediate: last_step {last_step!r} must be a whole "
                             f"number >= the step {step}")
        end = f" {int(last_step)}"
    out = sys.stdout if stream is None else stream
    out.write(f"{TAG} {int(step)} {value!r}{end}\n")
    out.flush()
