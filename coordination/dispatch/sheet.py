"""Printable route sheets for drivers (A4 HTML, Vietnamese and English) from a routes document.

The page itself is the Jinja2 template ``templates/route_sheet.html``; this module fills it with
the texts of the sheet's language and one row per visit (consecutive steps of one kind at one
place: the whole load, and for a pickup the facility each load is for; the empty cylinders
collected or returned there), every text escaped with :func:`html.escape`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from coordination.dispatch.model import ATTRIBUTION
from data.errors import InvalidInputError
from data.schema.documents import (
    FacilityContact,
    LoadDocument,
    RouteDocument,
    RoutesDocument,
    RouteStepDocument,
)

if TYPE_CHECKING:
    import jinja2

_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Lệnh điều xe – Phiếu lộ trình",  # noqa: RUF001
        "vehicle": "Xe",
        "plate": "Biển số",
        "kind.cryogenic_tanker": "Xe bồn oxy lỏng",
        "kind.cylinder_truck": "Xe chở bình oxy",
        "date": "Ngày",
        "depot": "Nơi xuất phát / về",
        "driver": "Tài xế",
        "phone": "Điện thoại",
        "departure": "Giờ xuất phát",
        "return": "Giờ về dự kiến",
        "seq": "#",
        "stop": "Điểm dừng",
        "address": "Địa chỉ",
        "action": "Công việc",
        "quantity": "Số lượng",
        "empties": "Vỏ thu hồi",
        "empties.collect": "thu {count} vỏ",
        "empties.return": "trả {count} vỏ",
        "empties.on_board": "{count} vỏ",
        "arrival": "Giờ đến",
        "leave": "Giờ đi",
        "window": "Giờ nhận hàng",
        "contact": "Liên hệ",
        "signature": "Ký nhận",
        "type.start": "Xuất phát",
        "type.end": "Về nơi xuất phát",
        "type.pickup": "Nhận hàng",
        "type.delivery": "Giao hàng",
        "unit.kg_lox": "kg oxy lỏng",
        "unit.cylinders": "bình",
        "urgent": "KHẨN",
        "split": "Phần {part}/{parts} của đơn {total}",
        "for": "cho {name}: {quantity}",
        "load_after": "Hàng trên xe sau điểm này",
        "notes": "Ghi chú",
        "generated": "Lập lúc",
        "total": "Tổng",
        "drive": "Thời gian lái xe",
        "distance": "Quãng đường",
        "minutes": "phút",
        "km": "km",
    },
    "en": {
        "title": "Dispatch order – route sheet",  # noqa: RUF001
        "vehicle": "Vehicle",
        "plate": "Plate",
        "kind.cryogenic_tanker": "Liquid-oxygen tanker",
        "kind.cylinder_truck": "Cylinder truck",
        "date": "Date",
        "depot": "Start / return depot",
        "driver": "Driver",
        "phone": "Phone",
        "departure": "Departure",
        "return": "Expected return",
        "seq": "#",
        "stop": "Stop",
        "address": "Address",
        "action": "Task",
        "quantity": "Quantity",
        "empties": "Empties",
        "empties.collect": "collect {count}",
        "empties.return": "return {count}",
        "empties.on_board": "{count} empties",
        "arrival": "Arrive",
        "leave": "Leave",
        "window": "Receiving hours",
        "contact": "Contact",
        "signature": "Received (signature)",
        "type.start": "Start",
        "type.end": "Return to depot",
        "type.pickup": "Load",
        "type.delivery": "Deliver",
        "unit.kg_lox": "kg liquid oxygen",
        "unit.cylinders": "cylinders",
        "urgent": "URGENT",
        "split": "Part {part}/{parts} of a {total} order",
        "for": "for {name}: {quantity}",
        "load_after": "On board after stop",
        "notes": "Notes",
        "generated": "Generated",
        "total": "Total",
        "drive": "Driving time",
        "distance": "Distance",
        "minutes": "min",
        "km": "km",
    },
}
LANGUAGES = tuple(_TEXTS)
"""Languages of the route sheets: Vietnamese (``vi``) and English (``en``)."""

_COLUMNS = (
    "seq",
    "stop",
    "action",
    "quantity",
    "empties",
    "arrival",
    "leave",
    "window",
    "contact",
    "load_after",
    "signature",
)
"""Columns of the stops table, as keys of the texts."""


def _hhmm(iso: str) -> str:
    return dt.datetime.fromisoformat(iso).strftime("%H:%M")


def _quantity_text(step: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    if step.get("quantity") is None:
        return ""
    unit = step["unit"]
    if unit == "kg_lox":
        return f"{step['quantity']:,} {texts['unit.kg_lox']}".replace(",", "\u202f")
    size = unit.removeprefix("cylinders_")
    return f"{step['quantity']} {texts['unit.cylinders']} {size}"


@dataclass(frozen=True, slots=True)
class _SheetRow:
    """One stop of the sheet, as plain texts (the template escapes them)."""

    sequence: int
    name: str
    address: str
    action: str
    urgent: bool
    split: str
    quantity: str
    arrival: str
    departure: str
    window: str
    delivery: bool  # only deliveries have a contact cell
    contact: str
    phone: str
    on_board: str
    destinations: tuple[str, ...] = ()  # pickups: the facility each load is for, with quantity
    empties: str = ""  # empty cylinders collected or returned here (issue 15)


def _sheet_row(
    sequence: int,
    step: RouteStepDocument,
    load: LoadDocument | None,
    contacts: Mapping[str, FacilityContact],
    texts: Mapping[str, str],
) -> _SheetRow:
    split = ""
    if load and load.get("parts", 1) > 1:
        total = _quantity_text({"quantity": load["delivery_quantity"], "unit": load["unit"]}, texts)
        split = texts["split"].format(part=load["part"], parts=load["parts"], total=total)
    window = ""
    if step.get("time_window"):
        window = "–".join(_hhmm(t) for t in step["time_window"])  # noqa: RUF001
    contact = phone = ""
    known = contacts.get(step["place_id"]) if step["type"] == "delivery" else None
    if known:
        contact, phone = known.get("contact") or "", known.get("phone") or ""
    on_board = ", ".join(
        _quantity_text(
            {"quantity": v, "unit": "kg_lox" if k == "lox_kg" else "cylinders_"}, texts
        ).strip()
        for k, v in step["load"].items()
        if v
    )
    if step.get("empties_on_board"):
        on_board = ", ".join(
            t
            for t in (on_board, texts["empties.on_board"].format(count=step["empties_on_board"]))
            if t
        )
    return _SheetRow(
        sequence=sequence,
        name=step["name"],
        address=step.get("address") or "",
        action=texts["type." + step["type"]],
        urgent=bool(load and load.get("urgent") and step["type"] == "delivery"),
        split=split,
        quantity=_quantity_text(step, texts),
        arrival=_hhmm(step["arrival"]),
        departure=_hhmm(step["departure"]),
        window=window,
        delivery=step["type"] == "delivery",
        contact=contact,
        phone=phone,
        on_board=on_board,
    )


def _visits(steps: list[RouteStepDocument]) -> list[list[RouteStepDocument]]:
    """Group consecutive steps of one kind at one place: one visit, one row (issue 15)."""
    groups: list[list[RouteStepDocument]] = []
    for step in steps:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and step["type"] in ("pickup", "delivery")
            and (last["type"], last["place_id"]) == (step["type"], step["place_id"])
        ):
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def _quantities_text(steps: list[RouteStepDocument], texts: Mapping[str, str]) -> str:
    """Sum the quantities of a visit's steps by unit, as one text."""
    totals: dict[str, int] = {}
    for step in steps:
        if step.get("quantity") is not None:
            totals[step["unit"]] = totals.get(step["unit"], 0) + step["quantity"]
    return ", ".join(_quantity_text({"quantity": q, "unit": u}, texts) for u, q in totals.items())


def _empties_text(visit: list[RouteStepDocument], texts: Mapping[str, str]) -> str:
    """Say how many empty cylinders a visit returns and collects (blank when none)."""
    returned = sum(s.get("empties_returned", 0) for s in visit)
    collected = sum(s.get("empties", 0) for s in visit)
    return "; ".join(
        texts[key].format(count=count)
        for key, count in (("empties.return", returned), ("empties.collect", collected))
        if count
    )


def _visit_row(
    sequence: int,
    visit: list[RouteStepDocument],
    loads: Mapping[str, LoadDocument],
    names: Mapping[str, str],
    contacts: Mapping[str, FacilityContact],
    texts: Mapping[str, str],
) -> _SheetRow:
    """One row for a visit: the whole load, and for pickups the facility each load is for."""
    first, last = visit[0], visit[-1]
    row = _sheet_row(sequence, first, loads.get(first.get("load_id") or ""), contacts, texts)
    rows = [
        _sheet_row(sequence, s, loads.get(s.get("load_id") or ""), contacts, texts) for s in visit
    ]
    destinations: tuple[str, ...] = ()
    if first["type"] == "pickup":
        destinations = tuple(
            texts["for"].format(
                name=names.get(s.get("facility_id") or "", s.get("facility_id") or ""),
                quantity=_quantity_text(s, texts),
            )
            for s in visit
        )
    return dataclasses.replace(
        row,
        empties=_empties_text(visit, texts),
        urgent=any(r.urgent for r in rows),
        split="; ".join(r.split for r in rows if r.split),
        quantity=_quantities_text(visit, texts) if len(visit) > 1 else row.quantity,
        departure=_hhmm(last["departure"]),
        on_board=_sheet_row(sequence, last, None, contacts, texts).on_board,
        destinations=destinations,
    )


def _escape(value: object) -> Markup:
    """Escape a text as the sheets always have: ``html.escape`` (``'`` as ``&#x27;``)."""
    return Markup(html.escape(str(value)))


@functools.cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("coordination.dispatch", "templates"),
        autoescape=True,  # a text that misses the esc filter is still escaped
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters["esc"] = _escape
    return environment.get_template("route_sheet.html")


def _find_route(routes: RoutesDocument, vehicle_id: str) -> RouteDocument:
    found = [r for r in routes["routes"] if r["vehicle"] == vehicle_id]
    if not found:
        raise InvalidInputError(
            f"vehicle_id: {vehicle_id!r} has no route in these routes (routes: "
            f"{', '.join(r['vehicle'] for r in routes['routes']) or 'none'})"
        )
    return found[0]


def route_sheet_html(routes: RoutesDocument, vehicle_id: str, *, lang: str = "vi") -> str:
    """Render a driver's printable route sheet (A4, print CSS) as an HTML document.

    Parameters
    ----------
    routes
        The answer of :func:`~coordination.dispatch.routes_to_dict`.
    vehicle_id
        The vehicle whose route is printed.
    lang
        ``"vi"`` (default) or ``"en"``.

    Returns
    -------
    str
        A complete UTF-8 HTML document; unknown contacts and the driver's name are blank lines to
        fill in by hand.

    Raises
    ------
    InvalidInputError
        If ``lang`` is not a known language or the vehicle has no route in ``routes``.
    """
    if lang not in _TEXTS:
        raise InvalidInputError(f"lang: must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    route = _find_route(routes, vehicle_id)
    texts = _TEXTS[lang]
    loads = {load["load_id"]: load for load in routes.get("loads", [])}
    contacts = routes.get("contacts", {})
    names = {
        step["place_id"]: step["name"]
        for r in routes["routes"]
        for step in r["steps"]
        if step["type"] == "delivery"
    }
    rows = [
        _visit_row(sequence, visit, loads, names, contacts, texts)
        for sequence, visit in enumerate(_visits(route["steps"]))
    ]
    sheet = {
        "vehicle": route["vehicle"],
        "kind": texts["kind." + route["kind"]],
        "plate": route.get("plate") or "",
        "date": routes["date"],
        "depot": route["steps"][0]["name"],
        "departure": _hhmm(route["start"]),
        "return_": _hhmm(route["end"]),
        "drive": f"{round(route['duration'] / 60)} {texts['minutes']}",
        "distance": f"{(route['distance'] or 0) / 1000:.1f} {texts['km']}",
        "plan_id": routes.get("plan_id") or "",
        "routes_id": routes.get("routes_id") or "",
        "timezone": routes["timezone"],
        "attribution": ATTRIBUTION,
    }
    return _template().render(lang=lang, t=texts, sheet=sheet, columns=_COLUMNS, rows=rows)
