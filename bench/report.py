"""Collecting per-round results, the summary table, and the JSON file under bench/results/."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.scenarios import Measurement, Scenario

PRODUCT = "product"
REFERENCE = "reference"
ERROR_WIDTH = 90


@dataclass
class Series:
    """One scenario on one server over all rounds."""

    values: list[float] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    error: str = ""
    setup_seconds: float | None = None

    def median(self) -> float | None:
        """Median of the rounds that ran (None if none did)."""
        return statistics.median(self.values) if self.values else None

    def add(self, measurement: Measurement) -> None:
        """Record one round."""
        self.values.append(measurement.value)
        self.measurements.append(measurement)

    def checks(self) -> set[str]:
        """The distinct result fingerprints seen."""
        return {m.check for m in self.measurements if m.check}

    def notes(self) -> list[str]:
        """Distinct notes, in order of appearance."""
        return list(dict.fromkeys(note for m in self.measurements for note in m.notes))


@dataclass
class Results:
    """Everything one benchmark invocation measured."""

    scenarios: list[Scenario]
    targets: list[str]
    series: dict[tuple[str, str], Series] = field(default_factory=dict)
    floor_ms: list[float] = field(default_factory=list)
    server_errors: dict[str, str] = field(default_factory=dict)

    def get(self, scenario: str, target: str) -> Series:
        """The series of ``scenario`` on ``target`` (created empty on first use)."""
        return self.series.setdefault((scenario, target), Series())

    def ratio(self, scenario: Scenario) -> float | None:
        """Product speed relative to the reference (> 1: the product is faster)."""
        product = self.get(scenario.name, PRODUCT).median()
        reference = self.get(scenario.name, REFERENCE).median()
        if not product or not reference:
            return None
        return product / reference if scenario.higher_is_better else reference / product

    def floor_median(self) -> float | None:
        """Median of the per-round database floors in ms (None if not measured)."""
        return statistics.median(self.floor_ms) if self.floor_ms else None


def cell(series: Series) -> str:
    """A table cell: the median, or ``n/a (error: ...)``."""
    median = series.median()
    if median is not None:
        return f"{median:,.1f}" if median >= 100 else f"{median:,.2f}"
    if series.error:
        return f"n/a (error: {series.error[:ERROR_WIDTH]})"
    return "n/a"


def summary(results: Results, rounds: int, workers: int) -> str:
    """The human-readable report."""
    header = f"{'scenario':<30} {'unit':<11} {'product':>12} {'reference':>12} {'speed P/R':>10}"
    lines = [
        "",
        f"Median of {rounds} round(s); product and reference alternate each round; "
        f"{workers} worker process(es) each.",
        "speed P/R = product throughput / reference throughput "
        "(for latencies: reference ms / product ms); > 1 means the product is faster.",
        "",
        header,
        "-" * len(header),
    ]
    long_cells: list[str] = []
    for scenario in results.scenarios:
        product = results.get(scenario.name, PRODUCT)
        reference = results.get(scenario.name, REFERENCE)
        ratio = results.ratio(scenario)
        cells = []
        for target, series in ((PRODUCT, product), (REFERENCE, reference)):
            text = cell(series)
            if len(text) > 12:
                long_cells.append(f"  * {scenario.name} on {target}: {text}")
                text = "n/a*"
            cells.append(text)
        ratio_text = f"{ratio:.2f}x" if ratio is not None else "n/a"
        lines.append(
            f"{scenario.title:<30} {scenario.unit:<11} {cells[0]:>12} {cells[1]:>12} "
            f"{ratio_text:>10}"
        )
    lines.extend(long_cells)
    floor = results.floor_median()
    if floor is not None:
        lines.append("")
        relative = []
        for target in results.targets:
            latency = results.get("log-batch", target).median()
            if latency is not None:
                relative.append(f"{target} {latency / floor:.1f}x the floor")
        lines.append(
            f"log-batch DB floor (psycopg executemany of the same 1000 rows, one transaction): "
            f"{floor:.2f} ms; " + (", ".join(relative) or "no log-batch result")
        )
    lines.extend(_round_lines(results))
    lines.extend(_check_lines(results))
    return "\n".join(lines)


def _round_lines(results: Results) -> list[str]:
    """Per-round values, product / reference."""
    lines = ["", "Per round (product / reference):"]
    for scenario in results.scenarios:
        product = results.get(scenario.name, PRODUCT).values
        reference = results.get(scenario.name, REFERENCE).values
        count = max(len(product), len(reference))
        rounds = [f"{_at(product, i)} / {_at(reference, i)}" for i in range(count)] or ["no data"]
        lines.append(f"  {scenario.name:<17} " + "   ".join(rounds))
    if results.floor_ms:
        lines.append(f"  {'db floor ms':<17} " + "   ".join(f"{v:.2f}" for v in results.floor_ms))
    return lines


def _at(values: list[float], index: int) -> str:
    """``values[index]`` formatted, or ``-``."""
    return f"{values[index]:.1f}" if index < len(values) else "-"


def _check_lines(results: Results) -> list[str]:
    """Setup times, notes, and result fingerprints that differ between the servers."""
    lines: list[str] = []
    for scenario in results.scenarios:
        per_target = {t: results.get(scenario.name, t) for t in results.targets}
        setups = [
            f"{t} {s.setup_seconds:.1f}s"
            for t, s in per_target.items()
            if s.setup_seconds is not None and s.setup_seconds >= 1.0
        ]
        if setups:
            lines.append(f"  {scenario.name}: data setup took " + ", ".join(setups))
        lines.extend(
            f"  {scenario.name} on {t}: note: {note}"
            for t, s in per_target.items()
            for note in s.notes()
        )
        checks = {t: s.checks() for t, s in per_target.items() if s.checks()}
        if (
            len(checks) == len(results.targets) > 1
            and len(set(map(frozenset, checks.values()))) > 1
        ):
            shown = "; ".join(f"{t}: {sorted(c)}" for t, c in checks.items())
            lines.append(f"  {scenario.name}: WARNING results differ between servers: {shown}")
    lines.extend(f"  {t} server: {error}" for t, error in results.server_errors.items())
    return ["", "Notes:", *lines] if lines else []


def to_json(results: Results, config: dict[str, Any]) -> dict[str, Any]:
    """The machine-readable results."""
    scenarios: dict[str, Any] = {}
    for scenario in results.scenarios:
        entry: dict[str, Any] = {
            "title": scenario.title,
            "unit": scenario.unit,
            "higher_is_better": scenario.higher_is_better,
            "ratio_product_over_reference": results.ratio(scenario),
        }
        for target in results.targets:
            series = results.get(scenario.name, target)
            entry[target] = {
                "median": series.median(),
                "rounds": series.values,
                "measurements": [asdict(m) for m in series.measurements],
                "error": series.error or None,
                "setup_seconds": series.setup_seconds,
            }
        scenarios[scenario.name] = entry
    return {
        "config": config,
        "scenarios": scenarios,
        "log_batch_floor_ms": {"median": results.floor_median(), "rounds": results.floor_ms},
        "server_errors": results.server_errors,
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` (creating the folder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
