"""DNS: ``fh.dns.resolve`` and ``fh.dns.reverse`` (the rows of ``flowhound dns ... --json``).

Bounded concurrency, a per-query timeout and a run deadline; NXDOMAIN, SERVFAIL and timeouts are
results, not errors. ``nameserver="127.0.0.1:5353"`` asks that server instead of the system's.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _data
from . import _flowhound as _rs
from ._progress import maybe as _bar


def resolve(
    names: Union[str, Sequence[str]],
    type: str = "A",
    *,
    nameserver: Union[None, str, Sequence[str]] = None,
    dns_cache: Any = None,
    timeout_ms: int = 2000,
    deadline_secs: int = 30,
    progress: bool = True,
) -> List[Dict[str, Any]]:
    """Forward lookups (``type``: A, AAAA, MX, TXT, NS, CNAME, PTR); one dict per name.

    >>> fh.dns.resolve(["www.example.test"], nameserver="127.0.0.1:5353")   # doctest: +SKIP
    """
    if isinstance(names, str):
        names = [names]
    opts = _data.dns_args(nameserver, dns_cache, timeout_ms, deadline_secs)
    with _bar(progress) as cb:
        return json.loads(_rs.dns_resolve(list(names), type, opts, cb))


def reverse(
    ips: Union[str, Sequence[str]],
    *,
    nameserver: Union[None, str, Sequence[str]] = None,
    dns_cache: Any = None,
    timeout_ms: int = 2000,
    deadline_secs: int = 30,
    progress: bool = True,
) -> List[Dict[str, Any]]:
    """Reverse (PTR) lookups; one dict per address.

    >>> fh.dns.reverse(["192.0.2.10"], nameserver="127.0.0.1:5353")   # doctest: +SKIP
    """
    if isinstance(ips, str):
        ips = [ips]
    opts = _data.dns_args(nameserver, dns_cache, timeout_ms, deadline_secs)
    with _bar(progress) as cb:
        return json.loads(_rs.dns_reverse([str(i) for i in ips], opts, cb))
