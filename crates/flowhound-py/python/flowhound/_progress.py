"""Progress bars for long calls: the Rust side calls ``bar(stage, done, total)`` every 100 ms while
it works (never for calls shorter than that). In notebooks and terminals alike the bar is drawn by
``tqdm.auto`` when tqdm is installed, else as one line rewritten on ``sys.stderr``."""

from __future__ import annotations

import sys
from typing import Any, Optional


class Bar:
    """A callable progress reporter, closed with ``close()`` (or as a context manager)."""

    def __init__(self) -> None:
        self._tqdm: Any = None
        self._stage: Optional[str] = None
        self._text = False
        self._line = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self._close_current()
            self._stage = stage
            self._open(stage, total)
        if self._tqdm is not None:
            if total and self._tqdm.total != total:
                self._tqdm.total = total
            self._tqdm.n = done
            self._tqdm.refresh()
        else:
            self._draw(stage, done, total)

    def _open(self, stage: str, total: int) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._text = True
            return
        self._tqdm = tqdm(total=total or None, desc=stage, leave=False)

    def _draw(self, stage: str, done: int, total: int) -> None:
        if total:
            pct = min(100.0, 100.0 * done / total)
            filled = int(pct / 5)
            line = f"\r{stage} [{'#' * filled}{'.' * (20 - filled)}] {pct:5.1f}%"
        else:
            line = f"\r{stage} ..."
        if line != self._line:  # redraw only on change: notebooks keep every write
            self._line = line
            sys.stderr.write(line)
            sys.stderr.flush()

    def _close_current(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
        elif self._text and self._line:
            sys.stderr.write("\r" + " " * len(self._line) + "\r")
            sys.stderr.flush()
        self._line = ""

    def close(self) -> None:
        """Removes the bar."""
        self._close_current()
        self._stage = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def bar(progress: bool) -> Optional[Bar]:
    """A bar when ``progress`` is true, else None."""
    return Bar() if progress else None


class NoBar:
    """The context manager used when progress is off."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def maybe(progress: bool) -> Any:
    """``with maybe(progress) as cb:`` gives a Bar or None."""
    return Bar() if progress else NoBar()
