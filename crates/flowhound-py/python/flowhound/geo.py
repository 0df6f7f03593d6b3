"""GeoIP and ASN: ``fh.geo.lookup`` (as ``flowhound geo lookup --json``) and ``fh.geo.info``."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence, Union

from . import _data
from . import _flowhound as _rs


def lookup(
    ips: Union[str, Sequence[str]],
    *,
    geoip_db: Any = None,
    asn_db: Any = None,
    embedded_geo: bool = True,
) -> List[Dict[str, Any]]:
    """Country, country name, AS number and organisation of each address (IPv4 or IPv6).

    ``geoip_db``/``asn_db`` layer legacy ``GeoIP.dat``/``GeoIPASNum.dat`` or ``.mmdb`` files over the
    embedded database (first answer wins).

    >>> fh.geo.lookup(["8.8.8.8", "193.136.73.21"])   # doctest: +SKIP
    [{'ip': '8.8.8.8', 'country': 'US', 'country_name': 'United States', 'asn': 15169, 'org': 'Google LLC'}, ...]
    """
    if isinstance(ips, str):
        ips = [ips]
    return _rs.geo_lookup([str(i) for i in ips], _data.geo_args(geoip_db, asn_db, embedded_geo))


def info(*, geoip_db: Any = None, asn_db: Any = None, embedded_geo: bool = True) -> Dict[str, List[str]]:
    """The databases in use (kind, type, build date, coverage) and their attributions.

    >>> fh.geo.info()["attribution"]   # doctest: +SKIP
    """
    return _rs.geo_info(_data.geo_args(geoip_db, asn_db, embedded_geo))
