"""The COVID-19 vaccines used in Vietnam in 2021, with the length of their primary series."""
from __future__ import annotations

from dataclasses import dataclass

from portal.text import fold


@dataclass(frozen=True)
class Vaccine:
    code: str
    name: str
    doses_required: int
    aliases: tuple[str, ...] = ()


VACCINES = (
    Vaccine("astrazeneca", "AstraZeneca", 2,
            ("az", "astra", "astra zeneca", "astrazeneca (az)", "vaxzevria", "covishield")),
    Vaccine("pfizer", "Pfizer", 2, ("pfizer-biontech", "pfizer biontech", "comirnaty", "biontech")),
    Vaccine("moderna", "Moderna", 2, ("spikevax",)),
    Vaccine("verocell", "Vero Cell", 2,
            ("vero cell", "vero-cell", "sinopharm", "sinopharm (vero cell)", "hayat-vax", "hayat vax", "bbibp-corv")),
    Vaccine("sputnikv", "Sputnik V", 2, ("sputnik v", "sputnik-v", "sputnik", "gam-covid-vac")),
    Vaccine("janssen", "Janssen", 1, ("johnson & johnson", "j&j", "jnj", "johnson")),
    # Abdala's primary series is three doses (Vietnam's Ministry of Health, decision 4063/QĐ-BYT).
    Vaccine("abdala", "Abdala", 3, ()),
)

BY_CODE = {vaccine.code: vaccine for vaccine in VACCINES}
_BY_NAME = {fold(name): v for v in VACCINES for name in (v.code, v.name, *v.aliases)}


def find_vaccine(text: str | None) -> Vaccine | None:
    """Find a vaccine by code, name or a common alias, ignoring case and diacritics."""
    if not text:
        return None
    return _BY_NAME.get(fold(text))
