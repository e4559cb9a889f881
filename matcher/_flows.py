"""Turn solved transport quanta into the plan's :class:`~data.schema.allocation.Flow` records."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from data.schema.allocation import PRODUCTS, Flow, Product
from data.units import OxygenConversions
from matcher._networks import TransportArcs


@dataclass(frozen=True, slots=True)
class FlowMaker:
    """Turns solved transport quanta into the plan's :class:`Flow` records."""

    supplier_ids: list[str]
    facility_ids: list[str]
    travel_s: npt.NDArray[np.int64]
    resolution_m3: float
    conversions: OxygenConversions
    cylinder_size: str

    def quantities_m3(self, transport_q: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Gas m³ of transport quanta, as the plan states them."""
        return np.round(np.asarray(transport_q, np.float64) * self.resolution_m3, 6)

    def positive(self, quanta: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        """Mask of the quantities the plan states: the positive ones (whole quanta, every mode)."""
        return np.asarray(quanta, np.float64) > 0

    def __call__(self, arcs: TransportArcs, transport_q: npt.NDArray[np.float64]) -> list[Flow]:
        """Return the flows of the positive quantities, by day, supplier, facility, product."""
        positive = np.nonzero(self.positive(transport_q))[0]
        positive = positive[
            np.lexsort((arcs.p[positive], arcs.f[positive], arcs.s[positive], arcs.d[positive]))
        ]
        f_s, f_f, f_p = arcs.s[positive], arcs.f[positive], arcs.p[positive]
        quantity_m3 = self.quantities_m3(np.asarray(transport_q)[positive])
        bulk = f_p == PRODUCTS.index(Product.BULK_LIQUID)
        quantity = np.where(
            bulk,
            np.round(quantity_m3 / self.conversions.gas_m3_per_lox_t, 4),
            np.ceil(quantity_m3 / self.conversions.cylinder_gas_m3[self.cylinder_size] - 1e-9),
        )
        units = ("t_lox", f"cylinders_{self.cylinder_size}")
        supplier_ids, facility_ids = self.supplier_ids, self.facility_ids
        return [
            Flow(
                supplier_id=supplier_ids[s_idx],
                facility_id=facility_ids[f_idx],
                day=day,
                product=PRODUCTS[p_idx],
                quantity_m3=q_m3,
                quantity=q_unit,
                unit=units[0] if is_bulk else units[1],
                travel_time_s=t_s,
            )
            for s_idx, f_idx, p_idx, day, q_m3, q_unit, is_bulk, t_s in zip(
                f_s.tolist(),
                f_f.tolist(),
                f_p.tolist(),
                arcs.d[positive].tolist(),
                quantity_m3.tolist(),
                quantity.tolist(),
                bulk.tolist(),
                self.travel_s[f_s, f_f].tolist(),
                strict=True,
            )
        ]
