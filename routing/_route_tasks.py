"""Jobs and shipments behind one task record, as the pre-check, the model and the plan see them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data.schema.routes import Job, RouteProblem, Shipment, TimeWindow, UnassignedTask

INT64_MAX = int(np.iinfo(np.int64).max)


@dataclass(frozen=True, slots=True)
class Task:
    """A job or a shipment, as the pre-check and the engine see it."""

    position: int  # index into problem.jobs (jobs first) then problem.shipments
    job: Job | None
    shipment: Shipment | None

    @property
    def skills(self) -> frozenset[int]:
        """Skills a vehicle needs to serve the task."""
        return self.job.skills if self.job is not None else self.shipment.skills  # type: ignore[union-attr]

    @property
    def priority(self) -> int:
        """The task's priority (0 to 100)."""
        return self.job.priority if self.job is not None else self.shipment.priority  # type: ignore[union-attr]

    def need(self, num_dimensions: int) -> tuple[int, ...]:
        """Largest load this task alone puts on a vehicle, per dimension."""
        if self.job is not None:
            delivery = self.job.delivery or (0,) * num_dimensions
            pickup = self.job.pickup or (0,) * num_dimensions
            return tuple(max(d, p) for d, p in zip(delivery, pickup, strict=True))
        return self.shipment.amount or (0,) * num_dimensions  # type: ignore[union-attr]

    @property
    def num_steps(self) -> int:
        """Tasks in VROOM's sense (for ``max_tasks``): 1 for a job, 2 for a shipment."""
        return 1 if self.job is not None else 2

    def unassigned(self, reason: str) -> list[UnassignedTask]:
        """Return the task's unassigned entries: one for a job, two for a shipment."""
        if self.job is not None:
            return [UnassignedTask(self.job.job_id, "job", self.job.location_idx, reason)]
        shipment = self.shipment
        assert shipment is not None
        return [
            UnassignedTask(shipment.pickup.step_id, "pickup", shipment.pickup.location_idx, reason),
            UnassignedTask(
                shipment.delivery.step_id, "delivery", shipment.delivery.location_idx, reason
            ),
        ]


def list_tasks(problem: RouteProblem) -> list[Task]:
    """Return the problem's tasks: its jobs, then its shipments, in problem order."""
    jobs = [Task(i, job, None) for i, job in enumerate(problem.jobs)]
    offset = len(problem.jobs)
    return jobs + [Task(offset + k, None, s) for k, s in enumerate(problem.shipments)]


def service_start(arrival_s: int, windows: Sequence[TimeWindow]) -> int | None:
    """Return the earliest start of service at or after ``arrival_s`` in any window.

    ``None`` when every window has closed; ``arrival_s`` when there is no window.
    """
    if not windows:
        return arrival_s
    starts = [max(arrival_s, w.start_s) for w in windows if arrival_s <= w.end_s]
    return min(starts) if starts else None
