"""The ``Findings`` of ``fh.analyze``: ranked, explained anomalies as frames, JSON, HTML."""

from __future__ import annotations

import html
import json
import os
from typing import Any, Dict, List, Optional

import pyarrow as pa

from . import _data, _progress

#: The columns of ``Findings.to_pandas()`` / ``to_arrow()``.
COLUMNS = [
    "id", "kind", "detector", "score", "severity", "hosts", "peers",
    "first_seen", "last_seen", "flows", "explanation",
]

_SCHEMA = pa.schema([
    ("id", pa.string()), ("kind", pa.string()), ("detector", pa.string()), ("score", pa.float64()),
    ("severity", pa.string()), ("hosts", pa.list_(pa.string())), ("peers", pa.list_(pa.string())),
    ("first_seen", pa.timestamp("us", tz="UTC")), ("last_seen", pa.timestamp("us", tz="UTC")),
    ("flows", pa.uint64()), ("explanation", pa.string()),
])

_STYLE = {
    "critical": "color:#c0392b;font-weight:bold",
    "high": "color:#c0392b",
    "medium": "color:#b7950b",
    "low": "color:#888888",
}


def _ts(text: Optional[str]) -> Any:
    if text is None:
        return None
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Findings:
    """Ranked, explained findings of one ``fh.analyze`` run (highest score first).

    Examples
    --------
    >>> f = fh.analyze(test_df, normal=normal_df)          # doctest: +SKIP
    >>> f.to_pandas().head()                                # doctest: +SKIP
    >>> f.evidence(f.to_pandas().id[0])                     # the flows behind it  # doctest: +SKIP
    >>> f.report("report.html")                             # doctest: +SKIP
    """

    def __init__(self, inner: Any, kind: str) -> None:
        self._inner = inner
        self._kind = kind if kind != "paths" else "pandas"
        self._doc: Optional[Dict[str, Any]] = None

    @property
    def doc(self) -> Dict[str, Any]:
        """The findings document (``analyze --json``) as a dict."""
        if self._doc is None:
            self._doc = json.loads(self._inner.to_json())
        return self._doc

    @property
    def baseline(self) -> Any:
        """The ``Baseline`` the findings were detected against."""
        return self._inner.baseline

    def __len__(self) -> int:
        return len(self._inner)

    def __iter__(self):
        return iter(self.doc["findings"])

    def __repr__(self) -> str:
        sev = self.doc.get("per_severity", {})
        parts = ", ".join(f"{v} {k}" for k, v in sev.items() if v)
        return f"<flowhound.Findings: {len(self)} findings ({parts or 'none'})>"

    def to_json(self) -> str:
        """The findings document exactly as ``flowhound analyze --json FILE`` writes it."""
        return self._inner.to_json() + "\n"

    def rows(self) -> List[Dict[str, Any]]:
        """One dict per finding with the table columns (``COLUMNS``)."""
        out = []
        for f in self.doc["findings"]:
            out.append({
                "id": f["id"], "kind": f["kind"], "detector": f["detector"], "score": f["score"],
                "severity": f["severity"], "hosts": list(f.get("hosts", [])),
                "peers": list(f.get("peers", [])), "first_seen": _ts(f.get("first_seen")),
                "last_seen": _ts(f.get("last_seen")), "flows": f["flows"],
                "explanation": f["evidence"]["explanation"],
            })
        return out

    def to_arrow(self) -> pa.Table:
        """The findings table as a pyarrow Table (hosts and peers are lists)."""
        return pa.Table.from_pylist(self.rows(), schema=_SCHEMA)

    def to_pandas(self) -> Any:
        """The findings table as a pandas DataFrame (hosts and peers are lists)."""
        import pandas as pd

        df = pd.DataFrame(self.rows(), columns=COLUMNS)
        for c in ("first_seen", "last_seen"):
            df[c] = pd.to_datetime(df[c], utc=True)
        df["flows"] = df["flows"].astype("uint64")
        return df

    def to_polars(self) -> Any:
        """The findings table as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def evidence(self, id: str) -> Any:
        """The flows behind finding ``id``, enriched with country, AS and organisation, as the kind
        of frame the test data was (pandas for paths); its evidence dict is in ``.attrs["evidence"]``
        for pandas frames.

        >>> f.evidence("F0001")                             # doctest: +SKIP
        """
        table = self._inner.evidence_rows(id)
        out = _data.to_kind(table, self._kind)
        if self._kind == "pandas":
            f = next(x for x in self.doc["findings"] if x["id"] == id)
            out.attrs["evidence"] = f["evidence"]
        return out

    def report(self, path: "os.PathLike[str] | str", title: Optional[str] = None, *, progress: bool = True) -> str:
        """Writes the self-contained HTML report (as ``flowhound report``) and returns its path.

        >>> f.report("report.html")                         # doctest: +SKIP
        """
        with _progress.maybe(progress) as cb:
            self._inner.report(os.fspath(path), title, cb)
        return os.fspath(path)

    def _repr_html_(self, limit: int = 50) -> str:
        head = "".join(f"<th>{c}</th>" for c in ("#", "severity", "score", "kind", "detector", "hosts", "peers", "flows", "explanation"))
        body = []
        for i, r in enumerate(self.rows()[:limit], 1):
            style = _STYLE.get(r["severity"], "")
            cells = [
                str(i), f'<span style="{style}">{html.escape(r["severity"])}</span>', f'{r["score"]:.2f}',
                html.escape(r["kind"]), html.escape(r["detector"]), html.escape(", ".join(r["hosts"])),
                html.escape(", ".join(r["peers"][:5]) + (" …" if len(r["peers"]) > 5 else "")),
                str(r["flows"]), html.escape(r["explanation"]),
            ]
            body.append("<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>")
        more = f"<p>… {len(self) - limit} more</p>" if len(self) > limit else ""
        return (
            f"<p><b>flowhound</b>: {len(self)} findings</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"
        )
