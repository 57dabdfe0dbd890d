"""ISO 3166-1 alpha-2 to alpha-3: BigCommerce addresses carry alpha-2, Mirakl's OR01 wants alpha-3.

A country missing here makes the order an exception rather than a guess; add it when a store ships there.
"""

from __future__ import annotations

__all__ = ["ALPHA3", "alpha3"]

ALPHA3: dict[str, str] = {
    "AE": "ARE",
    "AR": "ARG",
    "AT": "AUT",
    "AU": "AUS",
    "BE": "BEL",
    "BG": "BGR",
    "BR": "BRA",
    "CA": "CAN",
    "CH": "CHE",
    "CL": "CHL",
    "CN": "CHN",
    "CO": "COL",
    "CY": "CYP",
    "CZ": "CZE",
    "DE": "DEU",
    "DK": "DNK",
    "EE": "EST",
    "EG": "EGY",
    "ES": "ESP",
    "FI": "FIN",
    "FR": "FRA",
    "GB": "GBR",
    "GR": "GRC",
    "HK": "HKG",
    "HR": "HRV",
    "HU": "HUN",
    "ID": "IDN",
    "IE": "IRL",
    "IL": "ISR",
    "IN": "IND",
    "IS": "ISL",
    "IT": "ITA",
    "JP": "JPN",
    "KR": "KOR",
    "LI": "LIE",
    "LT": "LTU",
    "LU": "LUX",
    "LV": "LVA",
    "MA": "MAR",
    "MC": "MCO",
    "MT": "MLT",
    "MX": "MEX",
    "MY": "MYS",
    "NL": "NLD",
    "NO": "NOR",
    "NZ": "NZL",
    "PE": "PER",
    "PH": "PHL",
    "PL": "POL",
    "PT": "PRT",
    "RO": "ROU",
    "RS": "SRB",
    "SA": "SAU",
    "SE": "SWE",
    "SG": "SGP",
    "SI": "SVN",
    "SK": "SVK",
    "TH": "THA",
    "TN": "TUN",
    "TR": "TUR",
    "TW": "TWN",
    "UA": "UKR",
    "US": "USA",
    "VN": "VNM",
    "ZA": "ZAF",
}


def alpha3(alpha2: str | None) -> str | None:
    """The alpha-3 code, or None when the country is unknown (the caller raises an exception case)."""
    return ALPHA3.get((alpha2 or "").upper())
