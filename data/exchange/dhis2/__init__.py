"""DHIS2 ``dataValueSets`` for daily reports: JSON, CSV or ADX export; import with upsert, dryRun.

Conventions (INTEROP.md): values are addressed by stable codes (``idScheme=code``): the data set
``OXY_DAILY``, one data element per report field (:data:`DATA_ELEMENTS`), the period of a day as
``yyyyMMdd`` and the org unit as the facility id. Values are strings. The export is DHIS2's bulk
form (``period`` and ``orgUnit`` on each value); ``created`` is the first submission (the exact
completion time, since DHIS2's ``timelyDays`` cannot say "before 16:00"), ``lastUpdated`` the
latest revision's, ``storedBy`` its submitter, and ``comment`` labels generated (seed) data.

An import is an upsert keyed on (data element, period, org unit): each facility-day's values are
applied over its latest revision and, if anything changed, stored as a new revision. Re-sending a
payload stores nothing. Per-value problems (unknown element or org unit, bad value, a day out of
scope or locked) are **conflicts**: those values are ignored and the rest imported, as DHIS2 does.
``deleted: true`` resets a value (a new revision; revisions themselves are never deleted).
Counts follow DHIS2: ``imported`` (values that had none), ``updated``, ``ignored`` (unchanged or
in conflict) and ``deleted``.

The package has one module per step: :mod:`~data.exchange.dhis2.elements` (the data set, its data
elements, periods and value texts), :mod:`~data.exchange.dhis2.exporting`,
:mod:`~data.exchange.dhis2.parsing` (JSON, CSV and ADX read as sent) and
:mod:`~data.exchange.dhis2.importing` (the pure plan, then the store adapter).
"""

from __future__ import annotations

from data.exchange.dhis2.elements import (
    ADX_MEDIA_TYPE,
    ADX_NAMESPACE,
    CSV_COLUMNS,
    DATA_ELEMENTS,
    DATA_ELEMENTS_BY_CODE,
    DATA_SET,
    DEFAULT_COMBOS,
    MAX_VALUES,
    PERIOD_PATTERN,
    DataElement,
    adx_period,
    parse_period,
    period_of,
)
from data.exchange.dhis2.exporting import (
    data_value_set,
    data_values,
    data_values_adx,
    data_values_csv,
)
from data.exchange.dhis2.importing import Conflict, ImportPlan, import_data_values, plan_import
from data.exchange.dhis2.parsing import (
    IncomingValue,
    parse_data_value_set_json,
    parse_data_values_adx,
    parse_data_values_csv,
)

__all__ = [
    "ADX_MEDIA_TYPE",
    "ADX_NAMESPACE",
    "CSV_COLUMNS",
    "DATA_ELEMENTS",
    "DATA_ELEMENTS_BY_CODE",
    "DATA_SET",
    "DEFAULT_COMBOS",
    "MAX_VALUES",
    "PERIOD_PATTERN",
    "Conflict",
    "DataElement",
    "ImportPlan",
    "IncomingValue",
    "adx_period",
    "data_value_set",
    "data_values",
    "data_values_adx",
    "data_values_csv",
    "import_data_values",
    "parse_data_value_set_json",
    "parse_data_values_adx",
    "parse_data_values_csv",
    "parse_period",
    "period_of",
    "plan_import",
]
