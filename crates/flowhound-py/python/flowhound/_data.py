"""Turning what the user passes as ``data`` into what the Rust module takes (paths, or an Arrow
stream), and results back into the user's kind of frame."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa


def _is_pandas(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith("pandas") and type(obj).__name__ == "DataFrame"


def _is_polars(obj: Any) -> bool:
    mod = type(obj).__module__
    return mod.startswith("polars") and type(obj).__name__ == "DataFrame"


def kind_of(data: Any) -> str:
    """``"paths"``, ``"pandas"``, ``"polars"`` or ``"arrow"``."""
    if isinstance(data, (str, os.PathLike)) or (
        isinstance(data, (list, tuple)) and all(isinstance(d, (str, os.PathLike)) for d in data)
    ):
        return "paths"
    if _is_pandas(data):
        return "pandas"
    if _is_polars(data):
        return "polars"
    return "arrow"


def prepare(data: Any, name: str = "data") -> Tuple[Any, str, str]:
    """(object for the Rust module, label for errors, kind)."""
    kind = kind_of(data)
    if kind == "paths":
        if isinstance(data, (list, tuple)):
            if not data:
                from ._flowhound import InputError

                raise InputError(f"{name}: an empty list of paths; give at least one file, directory or glob")
            return [os.fspath(d) for d in data], "", kind
        return os.fspath(data), "", kind
    if kind == "pandas":
        # Zero-copy for numeric columns; the index is not a flow column.
        return pa.Table.from_pandas(data, preserve_index=False), f"<{name}: pandas.DataFrame>", kind
    if kind == "polars":
        return data, f"<{name}: polars.DataFrame>", kind
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if not hasattr(data, "__arrow_c_stream__"):
        from ._flowhound import InputError

        raise InputError(
            f"{name}: cannot read a {type(data).__module__}.{type(data).__name__}; give a path, a glob, "
            "a list of paths, a pandas or polars DataFrame, or a pyarrow Table or RecordBatchReader"
        )
    return data, f"<{name}: {type(data).__module__.split('.')[0]}.{type(data).__name__}>", kind


def read_args(
    map: Optional[Any] = None,
    ts_unit: Optional[str] = None,
    format: Optional[str] = None,
    strict: bool = False,
    threads: int = 0,
    stitch: bool = False,
) -> Dict[str, Any]:
    """The reading options, as the Rust module takes them (``stitch``: one-way router records are
    stitched into biflows, as analysis reads them)."""
    if map is None:
        pairs: List[str] = []
    elif isinstance(map, dict):
        pairs = [f"{k}={v}" for k, v in map.items()]
    elif isinstance(map, str):
        pairs = [map]
    else:
        pairs = list(map)
    return {"map": pairs, "ts_unit": ts_unit, "format": format, "strict": bool(strict), "threads": int(threads),
            "stitch": bool(stitch)}


def geo_args(geoip_db: Any = None, asn_db: Any = None, embedded_geo: bool = True) -> Dict[str, Any]:
    """The GeoIP/ASN database options."""
    return {"geoip_db": _paths(geoip_db), "asn_db": _paths(asn_db), "embedded_geo": bool(embedded_geo)}


def dns_args(
    nameserver: Any = None, dns_cache: Any = None, timeout_ms: int = 2000, deadline_secs: int = 30
) -> Dict[str, Any]:
    """The resolver options."""
    return {
        "nameservers": _strings(nameserver),
        "dns_cache": os.fspath(dns_cache) if dns_cache is not None else None,
        "dns_timeout_ms": int(timeout_ms),
        "dns_deadline_secs": int(deadline_secs),
    }


def _strings(v: Any) -> List[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def _paths(v: Any) -> List[str]:
    if v is None:
        return []
    if isinstance(v, (str, os.PathLike)):
        return [os.fspath(v)]
    return [os.fspath(x) for x in v]


def _pandas_types():
    import pandas as pd

    return {
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
    }.get


def _pandas(table: pa.Table) -> Any:
    """A pandas DataFrame; dictionary columns become categoricals (pandas refuses null categories, so
    dictionaries holding nulls are re-encoded with null codes instead)."""
    import pyarrow.compute as pc

    cols = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = pc.dictionary_encode(col.cast(col.type.value_type))
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names).to_pandas(types_mapper=_pandas_types())


def to_kind(table: pa.Table, kind: str) -> Any:
    """A pyarrow Table as ``kind`` (``"pandas"``, ``"polars"`` or ``"arrow"``)."""
    if kind == "pandas":
        return _pandas(table)
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


def append_columns(data: Any, kind: str, added: pa.Table) -> Any:
    """``data`` (the user's frame, as given) with the columns of ``added`` appended."""
    if kind == "pandas":
        extra = _pandas(added)
        extra.index = data.index
        import pandas as pd

        return pd.concat([data, extra], axis=1)
    if kind == "polars":
        import polars as pl

        return data.hstack(pl.from_arrow(added).get_columns())
    table = data if isinstance(data, pa.Table) else pa.table(data)
    for name, col in zip(added.column_names, added.columns):
        table = table.append_column(name, col)
    return table
