"""Hook specifications: everything a pilot unit's plugin may declare or decide.

A *unit plugin* is a plugin that implements :func:`portal_unit`. The core asks a unit plugin only
about its own unit: when a hook takes ``unit``, only that unit's plugin and the non-unit plugins
(such as the built-in defaults) are called. The built-in rules answer last (``trylast``), so a
unit's ``firstresult`` answer wins, and returning ``None`` means "use the default".

Three shapes:

* declarations (collecting): every answer is merged, duplicate codes stop start-up;
* decisions (``firstresult``): the first non-``None`` answer wins;
* events: results are ignored.

Plugin authors need one import, which every example below assumes::

    from datetime import date, time, timedelta

    from portal.plugins import api, hookimpl

    _ = api.lazy_gettext
"""
from __future__ import annotations

from datetime import date

from portal.plugins import hookspec
from portal.plugins.types import (
    Admission,
    BusinessType,
    CommuteWindow,
    Eligibility,
    EnterpriseFacts,
    Location,
    PassFacts,
    RegistryConnector,
    Sector,
    Shift,
    UnitDescriptor,
    Validity,
    WorkerFacts,
)

# ---------------------------------------------------------------------------
# The unit and its declarations
# ---------------------------------------------------------------------------


@hookspec
def portal_unit() -> UnitDescriptor | None:
    """Describe the pilot unit this plugin brings.

    Implement it once per unit plugin; the plugin is then asked only about this unit. Two plugins
    declaring the same ``code`` or the same ``short_code`` stop start-up.

    ``short_code`` is the stable, printed identifier: it prefixes every card's serial and is inside
    every QR token, so once the unit has issued a card it can never change (nor can the unit
    disappear without being disabled by name): the portal refuses to start and says which unit,
    which short codes and what to do. ``code`` names the unit inside the portal and is the name of
    the plugin's entry point.

    :return: the unit's descriptor, or ``None`` for a plugin that is not a unit.

    Example::

        @hookimpl
        def portal_unit():
            return api.UnitDescriptor(code="district7", short_code="Q7", name_vi="Quận 7",
                                      name_en="District 7", authority_vi="Ủy ban nhân dân Quận 7",
                                      authority_en="District 7 People's Committee")
    """


@hookspec
def portal_business_types() -> list[BusinessType]:
    """Declare the business types an enterprise of this unit may register as.

    :return: a list of :class:`BusinessType`; codes must be unique within the unit.

    Example::

        @hookimpl
        def portal_business_types():
            return [api.BusinessType("essential_production", "Sản xuất hàng hóa thiết yếu",
                                     "Essential goods production")]
    """


@hookspec
def portal_sectors() -> list[Sector]:
    """Declare the sectors an enterprise of this unit may choose.

    :return: a list of :class:`Sector`; codes must be unique within the unit.

    Example::

        @hookimpl
        def portal_sectors():
            return [api.Sector("food_supply", "Cung ứng lương thực, thực phẩm", "Food supply")]
    """


@hookspec
def portal_locations() -> list[Location]:
    """Declare the listed zones or parks an enterprise of this unit must be located in.

    A unit that declares none does not ask enterprises for a location.

    :return: a list of :class:`Location`; codes must be unique within the unit.

    Example::

        @hookimpl
        def portal_locations():
            return [api.Location("tan_thuan", "Khu chế xuất Tân Thuận", "Tân Thuận Export Processing Zone")]
    """


@hookspec
def portal_shifts() -> list[Shift]:
    """Declare working shifts (codes are shared by every unit).

    The built-in plugin declares office hours (``office``) and three shifts (``shift1``..``shift3``).

    :return: a list of :class:`Shift`; a code declared twice stops start-up.

    Example::

        @hookimpl
        def portal_shifts():
            return [api.Shift("night_market", "Ca chợ đêm", "Night market shift", time(1), time(7),
                              aliases=("cho dem",))]
    """


# ---------------------------------------------------------------------------
# Decisions (first non-None answer wins; the built-in rules answer last)
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def portal_windows_follow_shift(unit: UnitDescriptor) -> bool | None:
    """Say whether the commute windows of ``unit`` depend on the worker's shift.

    Stops at first non-None result. The default is ``False``: the city's two windows whatever the
    shift, and a worker whose shift starts or ends outside them needs the travel permit (giấy đi
    đường) for those journeys, which the portal tells HR and the worker. A unit whose
    :func:`portal_commute_windows` answer depends on the shift returns ``True``; the portal then
    asks for the shift as something that matters. Start-up stops when the answer and the windows
    disagree.

    :param unit: the unit asked about.
    :return: ``True`` or ``False``, or ``None`` to leave it to the default.

    Example::

        @hookimpl
        def portal_windows_follow_shift(unit):
            return True
    """


@hookspec(firstresult=True)
def portal_commute_windows(unit: UnitDescriptor, shift: str | None) -> list[CommuteWindow] | None:
    """Return the daily windows a worker of ``unit`` on ``shift`` may commute in.

    Stops at first non-None result. The default is 06:30–08:00 (to work) and 16:30–18:00 (home),
    whatever the shift. A unit whose answer depends on ``shift`` also implements
    :func:`portal_windows_follow_shift` to say so.

    :param unit: the unit the worker's enterprise belongs to.
    :param shift: the worker's shift code, or ``None`` when unknown.
    :return: a non-empty list of :class:`CommuteWindow` (at most 7, whole minutes), or ``None`` to
        leave it to the default.

    Example::

        @hookimpl
        def portal_commute_windows(unit, shift):
            if shift in ("shift1", "shift2", "shift3"):
                return api.shift_change_windows(api.standard_shift(shift))
            return None
    """


@hookspec(firstresult=True)
def portal_admit_enterprise(
    unit: UnitDescriptor, enterprise: EnterpriseFacts, approved_count: int
) -> Admission | None:
    """Decide whether ``unit`` may approve ``enterprise`` into the pilot.

    Stops at first non-None result. Called when an official approves or reinstates, inside the
    transaction that will record the decision, so ``approved_count`` is exact. The core has already
    refused an enterprise whose business type, sector or location the unit does not declare (the
    forms offer only those, and the approval checks again in case the unit stopped declaring one),
    so do not check them again here; the default admits.

    :param unit: the unit deciding.
    :param enterprise: the applicant's facts.
    :param approved_count: enterprises of this unit already approved (the applicant excluded).
    :return: :class:`Admission`, or ``None`` to leave it to the default.

    Example::

        ENTERPRISE_CAP = 150


        @hookimpl
        def portal_admit_enterprise(unit, enterprise, approved_count):
            if approved_count >= ENTERPRISE_CAP:
                return api.Admission(False, _("District 7 has already approved its %(cap)s pilot "
                                              "enterprises.", cap=ENTERPRISE_CAP))
            return None
    """


@hookspec(firstresult=True)
def portal_worker_eligibility(unit: UnitDescriptor, worker: WorkerFacts, on_date: date) -> Eligibility | None:
    """Decide whether a worker of ``unit`` may hold a green card on ``on_date`` (a local date).

    Stops at first non-None result. The default follows decision 3328/QĐ-BCĐ (15/9/2021):
    fully vaccinated with the last dose at least 14 days before, or recovered within 180 days.
    A unit may tighten the rule, never loosen it: it usually asks the default first through
    ``api.default_eligibility`` and then adds its condition.

    :param unit: the worker's unit.
    :param worker: the worker's facts.
    :param on_date: the local day asked about.
    :return: :class:`Eligibility` with a translated reason, or ``None`` for the default.

    Example::

        @hookimpl
        def portal_worker_eligibility(unit, worker, on_date):
            if worker.sector != "local_tourism":
                return None
            base = api.default_eligibility(worker, on_date)
            if base.eligible and worker.negative_test is None:
                return api.Eligibility(False, api.Basis.TEST_REQUIRED, _("A negative test is required."))
            return base
    """


@hookspec(firstresult=True)
def portal_pass_validity(
    unit: UnitDescriptor, worker: WorkerFacts, eligibility: Eligibility, issued_on: date
) -> Validity | None:
    """Return the local days a pass issued on ``issued_on`` is valid.

    Stops at first non-None result. The default: six months from ``issued_on``, never past
    ``eligibility.until`` (the end of a recovery window or of a test's validity).

    :param unit: the worker's unit.
    :param worker: the worker's facts.
    :param eligibility: the (eligible) answer the pass is issued on.
    :param issued_on: the local day of issue.
    :return: :class:`Validity` (never ending after ``eligibility.until``), or ``None`` for the default.

    Example::

        @hookimpl
        def portal_pass_validity(unit, worker, eligibility, issued_on):
            last_day = issued_on + timedelta(days=29)
            if eligibility.until is not None:
                last_day = min(last_day, eligibility.until)
            return api.Validity(issued_on, last_day)
    """


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------


@hookspec
def portal_pass_extra_lines(unit: UnitDescriptor, pass_: PassFacts) -> list[str]:
    """Return extra lines the unit prints on its passes (plain text, escaped by the core).

    :param unit: the pass's unit.
    :param pass_: the pass being printed.
    :return: a list of short strings (collected from every plugin asked, in call order).

    Example::

        @hookimpl
        def portal_pass_extra_lines(unit, pass_):
            return [_("Valid for travel within Cần Giờ District only.")]
    """


# ---------------------------------------------------------------------------
# Events (results ignored)
# ---------------------------------------------------------------------------


@hookspec
def portal_enterprise_approved(unit: UnitDescriptor, enterprise: EnterpriseFacts) -> None:
    """Hear that an official of ``unit`` approved ``enterprise`` (after the commit).

    :param unit: the approving unit.
    :param enterprise: the approved enterprise.

    Example::

        import logging

        log = logging.getLogger(__name__)


        @hookimpl
        def portal_enterprise_approved(unit, enterprise):
            log.info("%s approved %s", unit.code, enterprise.tax_code)
    """


@hookspec
def portal_pass_issued(unit: UnitDescriptor, pass_: PassFacts) -> None:
    """Hear that a pass (or a new version of one) was issued (after the commit).

    :param unit: the pass's unit.
    :param pass_: the issued pass.

    Example::

        import logging

        log = logging.getLogger(__name__)


        @hookimpl
        def portal_pass_issued(unit, pass_):
            log.info("issued %s version %s", pass_.serial, pass_.version)
    """


@hookspec
def portal_pass_revoked(unit: UnitDescriptor, pass_: PassFacts, reason: str) -> None:
    """Hear that a pass was revoked (after the commit).

    :param unit: the pass's unit.
    :param pass_: the revoked pass.
    :param reason: the revocation reason as entered.

    Example::

        import logging

        log = logging.getLogger(__name__)


        @hookimpl
        def portal_pass_revoked(unit, pass_, reason):
            log.info("revoked %s: %s", pass_.serial, reason)
    """


# ---------------------------------------------------------------------------
# The health registry
# ---------------------------------------------------------------------------


@hookspec
def portal_health_registry_connector() -> list[RegistryConnector]:
    """Declare live connections to the health sector's registry (beside the built-in file and API paths).

    This hook collects: every connector declared by any plugin is offered to the health-data officers
    (``portal health pull CODE``); two connectors with the same ``code`` stop the pull. A connector's
    ``fetch(kind, citizen_ids)`` is asked in batches about the active workers' citizen IDs and returns
    :class:`RegistryRecord` values, which are matched like the rows of an uploaded extract.

    :return: a list of :class:`RegistryConnector` (empty when the plugin brings none).

    Example::

        @hookimpl
        def portal_health_registry_connector():
            def fetch(kind, citizen_ids):
                return [api.RegistryRecord(kind="vaccination", citizen_id=cid, date_of_birth=None,
                                           on_date=date(2021, 8, 1), dose_number=1, product="pfizer")
                        for cid in citizen_ids if kind == "vaccination"]

            return [api.RegistryConnector(code="hcdc", name="HCDC registry", fetch=fetch)]
    """
