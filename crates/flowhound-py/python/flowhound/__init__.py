"""flowhound in the notebook: what in this traffic is not normal, and who is behind it?

``import flowhound as fh`` gives the CLI's answers as Python objects and frames, with the same numbers:

>>> import flowhound as fh                                   # doctest: +SKIP
>>> fh.generate("data", flows_normal=20_000, flows_test=10_000)   # doctest: +SKIP
>>> findings = fh.analyze("data/test.parquet", normal="data/normal.parquet")   # doctest: +SKIP
>>> findings.to_pandas().head()                              # doctest: +SKIP

Wherever a function takes ``data`` it accepts a path, a glob or a list of paths (Parquet, CSV, Zeek
``conn.log``, Argus binetflow), a pandas or polars DataFrame, or a pyarrow Table or RecordBatchReader.
Frames are taken zero-copy through the Arrow PyCapsule interface. Columns are found as the CLI finds
them (the analysts' ``timestamp, src_ip, dst_ip, proto, port, up_bytes, down_bytes`` or the canonical
names); ``map={"up_bytes": "SrcBytes"}`` overrides them and ``ts_unit="ms"`` forces the epoch unit.

``threads=N`` caps the reader threads (default: all cores). Long calls release the GIL, stop on Ctrl-C
and show a progress bar (``progress=False`` hides it).
Errors are :class:`FlowhoundError` subclasses carrying the CLI's messages.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from . import _data, dns, geo
from ._findings import COLUMNS, Findings
from ._flowhound import (
    Baseline,
    ConfigError,
    DatabaseError,
    FlowhoundError,
    InputError,
    OutputError,
    QueryError,
    __version__,
)
from . import _flowhound as _rs
from ._progress import maybe as _bar

__all__ = [
    "profile", "outliers", "outlier_rows", "enrich", "analyze", "baseline", "sql", "generate",
    "evaluate", "geo", "dns", "Findings", "Baseline", "COLUMNS", "FlowhoundError", "InputError",
    "ConfigError", "DatabaseError", "QueryError", "OutputError", "__version__",
]


def profile(
    data: Any,
    internal: Optional[Sequence[str]] = None,
    top: int = 10,
    *,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    progress: bool = True,
) -> Dict[str, Any]:
    """Describes flows: the document of ``flowhound profile --json`` (docs/profile.md).

    Byte statistics with pandas semantics (``describe()``: sample std, linear quartiles), flow count
    and time span, top sources and destinations, ports, protocols, hours and the internal/external
    split. ``internal`` lists the internal CIDRs (default RFC 1918 + RFC 4193).

    >>> p = fh.profile(df, internal=["192.168.105.0/24"])   # doctest: +SKIP
    >>> p["stats"]["up_bytes"]["mean"], p["flows"]          # doctest: +SKIP
    """
    obj, label, _ = _data.prepare(data)
    with _bar(progress) as cb:
        text = _rs.profile(
            obj, label, _data.read_args(map, ts_unit, format, strict, threads), list(internal or []), top, cb
        )
    return json.loads(text)


def _outliers(normal, test, methods, k_std, iqr_factor, z_limit, rows, read, geo_opts, progress):
    n, nl, _ = _data.prepare(normal, "normal")
    t, tl, kind = _data.prepare(test, "test")
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    with _bar(progress) as cb:
        text, table = _rs.outliers(
            n, nl, t, tl, read, [m.strip() for m in methods], float(k_std), float(iqr_factor),
            float(z_limit), rows, geo_opts, cb,
        )
    return json.loads(text), table, kind


def outliers(
    normal: Any,
    test: Any,
    methods: Union[str, Sequence[str]] = ("sigma", "iqr", "zscore-test"),
    *,
    k_std: float = 3.0,
    iqr_factor: float = 1.5,
    z_limit: float = 3.0,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    progress: bool = True,
) -> Dict[str, Any]:
    """The notebook's thresholds, exactly: the document of ``flowhound outliers --json``.

    ``sigma``: mean + ``k_std`` x std (pandas' sample std) learned on ``normal``; ``iqr``: the fences
    Q1 - ``iqr_factor`` x IQR and Q3 + ``iqr_factor`` x IQR (linear quartiles) learned on ``normal``;
    ``zscore-test``: scipy's |z| > ``z_limit`` on ``test`` itself. Per metric (``up_bytes``,
    ``down_bytes``): the thresholds and the number of test rows flagged.

    >>> r = fh.outliers(normal_df, test_df, methods=["sigma", "iqr"])   # doctest: +SKIP
    >>> r["up_bytes"]["sigma"]["threshold"], r["up_bytes"]["sigma"]["rows"]   # doctest: +SKIP
    """
    doc, _, _ = _outliers(
        normal, test, methods, k_std, iqr_factor, z_limit, False,
        _data.read_args(map, ts_unit, format, strict, threads), _data.geo_args(), progress,
    )
    return doc


def outlier_rows(
    normal: Any,
    test: Any,
    methods: Union[str, Sequence[str]] = ("sigma", "iqr", "zscore-test"),
    *,
    k_std: float = 3.0,
    iqr_factor: float = 1.5,
    z_limit: float = 3.0,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    geoip_db: Any = None,
    asn_db: Any = None,
    embedded_geo: bool = True,
    progress: bool = True,
) -> Any:
    """The test rows that ``outliers`` flags, as a frame of the test's kind (pandas for paths), with
    ``dst_country``, ``dst_asn``, ``dst_org`` and the methods that flagged each row (``up_flags``,
    ``down_flags``), as ``flowhound outliers -o rows.parquet`` writes them. IPs are text.

    >>> rows = fh.outlier_rows(normal_df, test_df, methods="sigma")   # doctest: +SKIP
    >>> rows.groupby("dst_country").size()                            # doctest: +SKIP
    """
    _, table, kind = _outliers(
        normal, test, methods, k_std, iqr_factor, z_limit, True,
        _data.read_args(map, ts_unit, format, strict, threads), _data.geo_args(geoip_db, asn_db, embedded_geo),
        progress,
    )
    return _data.to_kind(table, "pandas" if kind == "paths" else kind)


def enrich(
    data: Any,
    rdns: bool = False,
    *,
    nameserver: Union[None, str, Sequence[str]] = None,
    dns_cache: Any = None,
    geoip_db: Any = None,
    asn_db: Any = None,
    embedded_geo: bool = True,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    threads: int = 0,
    progress: bool = True,
) -> Any:
    """Adds country, AS number and organisation of both ends to every flow: ``src_country``,
    ``src_asn``, ``src_org``, ``dst_country``, ``dst_asn``, ``dst_org`` (and with ``rdns=True`` the PTR
    names ``src_name``, ``dst_name``). Each distinct address is looked up once.

    Returns what it was given: a pandas DataFrame gets the columns appended (its rows and index
    untouched; a bad row is an ``InputError`` naming it), a pyarrow Table gives a Table, a polars
    DataFrame a polars DataFrame. Paths give a pandas DataFrame of the canonical columns (IPs as text).

    >>> df = fh.enrich(df)                                   # doctest: +SKIP
    >>> df.groupby("dst_country").up_bytes.sum()             # doctest: +SKIP
    """
    import pyarrow as pa

    if isinstance(data, pa.RecordBatchReader):
        data = data.read_all()
    obj, label, kind = _data.prepare(data)
    with _bar(progress) as cb:
        table = _rs.enrich(
            obj, label, _data.read_args(map, ts_unit, format, True, threads), bool(rdns),
            _data.geo_args(geoip_db, asn_db, embedded_geo), _data.dns_args(nameserver, dns_cache), cb,
        )
    if kind == "paths":
        return _data.to_kind(table, "pandas")
    return _data.append_columns(data, kind, table)


def analyze(
    test: Any,
    normal: Any = None,
    baseline: "Union[None, Baseline, str, os.PathLike[str]]" = None,
    config: "Union[None, str, os.PathLike[str]]" = None,
    internal: Optional[Sequence[str]] = None,
    detectors: Optional[Sequence[str]] = None,
    rdns: bool = False,
    *,
    exclude: Optional[Sequence[str]] = None,
    nameserver: Union[None, str, Sequence[str]] = None,
    dns_cache: Any = None,
    geoip_db: Any = None,
    asn_db: Any = None,
    embedded_geo: bool = True,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    stitch: bool = True,
    progress: bool = True,
) -> Findings:
    """Learns what normal looks like and finds what is not: ``flowhound analyze``.

    The baseline is ``baseline`` (from ``fh.baseline``, ``fh.Baseline.load`` or a baseline JSON path), else learned from
    ``normal``, else learned robustly from ``test`` itself. ``config`` is a flowhound.toml
    (``flowhound config example``); ``detectors`` picks detectors by name (``flowhound detectors``);
    ``exclude`` adds internal servers (``IP`` or ``IP:PORT``) to the discovered ones, so the botnet
    hunt leaves them out. Router flows (one record per direction) are stitched into biflows as the
    CLI stitches them; ``stitch=False`` keeps the records as read. ``rdns=True`` adds PTR names (``nameserver="127.0.0.1:5353"`` picks the
    server). Returns :class:`Findings`, ranked.

    >>> f = fh.analyze(test_df, normal=normal_df, internal=["192.168.105.0/24"])   # doctest: +SKIP
    >>> f                         # in Jupyter: the ranked, coloured table          # doctest: +SKIP
    >>> f.to_pandas().query("severity == 'critical'")                              # doctest: +SKIP
    """
    if isinstance(baseline, (str, os.PathLike)):
        baseline = Baseline.load(os.fspath(baseline))
    t, tl, kind = _data.prepare(test, "test")
    n, nl = (None, "")
    if normal is not None:
        n, nl, _ = _data.prepare(normal, "normal")
    args = {
        "config": os.fspath(config) if config is not None else None,
        "detectors": [detectors] if isinstance(detectors, str) else list(detectors or []),
        "internal": list(internal or []),
        "exclude": list(exclude or []),
        "rdns": bool(rdns),
    }
    with _bar(progress) as cb:
        inner = _rs.analyze(
            t, tl, n, nl, baseline, args, _data.read_args(map, ts_unit, format, strict, threads, stitch),
            _data.geo_args(geoip_db, asn_db, embedded_geo), _data.dns_args(nameserver, dns_cache), cb,
        )
    return Findings(inner, kind)


def baseline(
    normal: Any,
    config: "Union[None, str, os.PathLike[str]]" = None,
    *,
    internal: Optional[Sequence[str]] = None,
    exclude: Optional[Sequence[str]] = None,
    geoip_db: Any = None,
    asn_db: Any = None,
    embedded_geo: bool = True,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    stitch: bool = True,
    progress: bool = True,
) -> Baseline:
    """Learns the model of normal traffic (``flowhound baseline``): per-host and per-window levels,
    servers, the internal graph, external destinations. Save it with ``.save(path)`` and load it
    with ``fh.Baseline.load(path)``; pass it to ``fh.analyze(test, baseline=b)``.

    >>> b = fh.baseline(normal_df, internal=["192.168.105.0/24"])   # doctest: +SKIP
    >>> b.save("baseline.json")                                     # doctest: +SKIP
    """
    obj, label, _ = _data.prepare(normal, "normal")
    with _bar(progress) as cb:
        return _rs.baseline(
            obj, label, os.fspath(config) if config is not None else None, list(internal or []),
            list(exclude or []), _data.read_args(map, ts_unit, format, strict, threads, stitch),
            _data.geo_args(geoip_db, asn_db, embedded_geo), cb,
        )


def sql(
    query: str,
    data: Any,
    *,
    geoip_db: Any = None,
    asn_db: Any = None,
    embedded_geo: bool = True,
    map: Any = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    progress: bool = True,
) -> Any:
    """Runs SQL over ``data`` as table ``flows`` (canonical columns, docs/flows.md); a pyarrow Table.

    IPs are integers in SQL: ``ip_str(ip)`` shows them, and result columns named ``*ip`` come back as
    text. Geo functions: ``geo_country(ip)``, ``asn_number(ip)``, ``asn_org(ip)``, ``is_private(ip)``,
    ``in_cidr(ip, '192.168.105.0/24')``.

    >>> fh.sql("SELECT geo_country(dst_ip) AS cc, count(*) AS n FROM flows GROUP BY 1", df).to_pandas()  # doctest: +SKIP
    """
    obj, label, _ = _data.prepare(data)
    with _bar(progress) as cb:
        return _rs.sql(
            query, obj, label, _data.read_args(map, ts_unit, format, strict, threads),
            _data.geo_args(geoip_db, asn_db, embedded_geo), cb,
        )


def generate(out: "Union[str, os.PathLike[str]]", *, progress: bool = True, **settings: Any) -> Dict[str, Any]:
    """Writes a simulated corporate network with known answers (``flowhound generate``):
    ``out/normal.parquet``, ``out/test.parquet``, ``out/servers.parquet`` and ``out/truth.json``.

    Settings (docs/generator.md): ``seed`` (42), ``flows_normal`` (200000), ``flows_test`` (100000),
    ``flows_servers`` (50000), ``subnet`` ("192.168.105.0/24"), ``clients`` (200), ``scenarios``
    (all: botnet, cnc_beacon, exfiltration, dns_tunnel, port_scan, unusual_country, server_abuse),
    ``decoys`` (True), ``labels`` (False), ``ts_format`` ("seconds", "millis", "float_seconds",
    "arrow_timestamp"), ... Returns ``{"files": [...], "truth": {...}}``.

    >>> g = fh.generate("data", seed=7, flows_normal=20_000, flows_test=10_000)   # doctest: +SKIP
    >>> [s["kind"] for s in g["truth"]["scenarios"]]                             # doctest: +SKIP
    """
    with _bar(progress) as cb:
        return json.loads(_rs.generate(os.fspath(out), json.dumps(settings), cb))


def evaluate(
    truth: "Union[str, os.PathLike[str]]",
    findings: "Union[Findings, str, os.PathLike[str]]",
    *,
    progress: bool = True,
) -> Dict[str, Any]:
    """Host-level precision, recall and F1 of findings against a generated ``truth.json``
    (``flowhound evaluate --json``). ``findings`` is a :class:`Findings` or a findings JSON file.

    >>> fh.evaluate("data/truth.json", findings)["overall"]   # doctest: +SKIP
    """
    if isinstance(findings, Findings):
        text = findings.to_json()
    else:
        with open(os.fspath(findings), encoding="utf-8") as f:
            text = f.read()
    with _bar(progress) as cb:
        return json.loads(_rs.evaluate(os.fspath(truth), text, cb))
