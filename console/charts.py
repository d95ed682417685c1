"""Chart data for unfold's Chart.js components (served locally)."""

from __future__ import annotations

import json


def line_chart(labels: list[str], series: dict[str, list[int]]) -> str:
    """The data attribute of unfold's Chart.js line chart."""
    colors = ["var(--color-primary-600)", "var(--color-base-400)", "var(--color-primary-300)"]
    datasets = [
        # int(): some figures come as Decimal from SUMs over rollups.
        {"label": name, "data": [int(v) for v in values], "borderColor": colors[index % 3]}
        for index, (name, values) in enumerate(series.items())
    ]
    return json.dumps({"labels": labels, "datasets": datasets})
