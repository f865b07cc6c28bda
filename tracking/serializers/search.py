"""Request schemas of the experiment and run searches. spec: tracking.md §2-3, search.md.

Results are rendered with ``ExperimentOut`` and ``RunOut`` (``tracking.serializers.experiments``
and ``tracking.serializers.runs``).
"""

from __future__ import annotations

from typing import Any, Final

from config import wire

VIEW_TYPES: Final = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}
SEARCH_RUNS_MAX_RESULTS: Final = 50000


class BoundedInt(wire.Int64):
    """An integer with an upper bound checked by the request schema, as MLflow's handler does
    for ``runs/search``: ``Invalid value 50001 for parameter 'max_results' supplied:  Hint...``."""

    def __init__(self, *, maximum: int, required: bool = False) -> None:
        super().__init__(required=required)
        self.maximum = maximum

    def from_json(self, value: Any) -> int:
        number = super().from_json(value)
        if number > self.maximum:
            raise wire.invalid_value(self.name, value)
        return number


class SearchExperimentsIn(wire.Schema):
    """``experiments/search`` (GET query or POST body). ``max_results`` has no usable default:
    absent means 0, which the selector refuses (spec: examples/experiments/search_errors.json)."""

    max_results = wire.Int64()
    page_token = wire.String()
    filter = wire.String()
    order_by = wire.Repeated(wire.String())
    view_type = wire.Enum(VIEW_TYPES)


class SearchRunsIn(wire.Schema):
    """``runs/search`` (POST only). ``max_results`` defaults to 1000."""

    experiment_ids = wire.Repeated(wire.String())
    filter = wire.String()
    run_view_type = wire.Enum(VIEW_TYPES)
    max_results = BoundedInt(maximum=SEARCH_RUNS_MAX_RESULTS)
    order_by = wire.Repeated(wire.String())
    page_token = wire.String()
