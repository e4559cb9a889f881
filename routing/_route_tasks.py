"""Jobs and shipments behind one task record, as the pre-check, the model and the plan see them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from data.errors import InvalidInputError
from data.schema.routes import Job, RouteProblem, Shipment, TaskId, TimeWindow, UnassignedTask

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


@dataclass(frozen=True, slots=True)
class VehiclePreference:
    """A task already announced on a vehicle: serving it with another vehicle costs ``penalty``.

    The live re-plan (issue 15) keeps announced stops on their vehicle unless moving them saves
    more than ``penalty``, in the problem's cost units (with the default ``cost_per_hour`` of
    3600, one unit is one second of driving). ``task_id`` is a job's id or a shipment's pickup
    step id.
    """

    task_id: TaskId
    vehicle_id: TaskId
    penalty: int


def preference_positions(
    problem: RouteProblem, preferences: Sequence[VehiclePreference]
) -> dict[int, tuple[int, int]]:
    """Return task position -> (vehicle position, penalty) of each preference.

    Raises
    ------
    InvalidInputError
        If a preference names an unknown task or vehicle, repeats a task, or has a negative
        penalty.
    """
    positions: Mapping[TaskId, int] = {
        (t.job.job_id if t.job is not None else t.shipment.pickup.step_id): t.position  # type: ignore[union-attr]
        for t in list_tasks(problem)
    }
    vehicles = {v.vehicle_id: k for k, v in enumerate(problem.vehicles)}
    out: dict[int, tuple[int, int]] = {}
    problems = []
    for number, preference in enumerate(preferences):
        position = positions.get(preference.task_id)
        vehicle = vehicles.get(preference.vehicle_id)
        if position is None:
            problems.append(f"preferences[{number}].task_id: no task {preference.task_id!r}")
        if vehicle is None:
            problems.append(
                f"preferences[{number}].vehicle_id: no vehicle {preference.vehicle_id!r}"
            )
        if (
            isinstance(preference.penalty, bool)
            or not isinstance(preference.penalty, int)
            or (preference.penalty < 0)
        ):
            problems.append(
                f"preferences[{number}].penalty: must be a whole number >= 0, "
                f"got {preference.penalty!r}"
            )
        if position is not None and position in out:
            problems.append(f"preferences[{number}].task_id: {preference.task_id!r} repeated")
        if position is not None and vehicle is not None:
            out[position] = (vehicle, preference.penalty)
    if problems:
        raise InvalidInputError.from_problems("vehicle preferences", problems)
    return out
