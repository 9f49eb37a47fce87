"""Writing a table block by block, as CSV or Parquet, so no file needs the whole table in memory.

A writer is opened with the column names and which of them hold integers,
then takes blocks ({column: 1-D array}, all of one length) in order.
Parquet needs pyarrow, an optional extra (``pip install 'symcost[parquet]'``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from .errors import SymcostError

FORMATS = ("csv", "parquet")


def format_for(path: str | Path, requested: str | None = None) -> str:
    """The requested format, else the one the file's suffix names (CSV unless it ends in .parquet)."""
    if requested is not None:
        return requested
    return "parquet" if Path(path).suffix.lower() == ".parquet" else "csv"


def _cannot_write(path: str | Path, error: OSError) -> SymcostError:
    return SymcostError(f"cannot write {path}: {error.strerror or error}")


class CsvWriter:
    def __init__(
        self, path: str | Path, columns: Sequence[str], integers: Sequence[str] = (), texts: Sequence[str] = ()
    ):
        self.columns = list(columns)
        # 17 significant digits round-trip every float64 exactly.
        self.formats = ["%d" if column in integers else "%s" if column in texts else "%.17g" for column in self.columns]
        try:
            self.handle = open(path, "w", newline="", encoding="utf-8")
        except OSError as error:
            raise _cannot_write(path, error) from None
        self.handle.write(",".join(self.columns) + "\n")

    def write(self, block: Mapping[str, np.ndarray]) -> None:
        # With a text column, rows hold mixed types: an object array keeps each value's own type.
        texts = "%s" in self.formats
        rows = np.column_stack(
            [np.asarray(block[column], dtype=object) if texts else block[column] for column in self.columns]
        )
        np.savetxt(self.handle, rows, fmt=self.formats, delimiter=",")

    def close(self) -> None:
        self.handle.close()


def require_pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise SymcostError(
            "Parquet output needs pyarrow, which is not installed: pip install 'symcost[parquet]' (or write CSV)"
        ) from None
    return pyarrow, pyarrow.parquet


class ParquetWriter:
    """One Parquet row group per block."""

    def __init__(
        self, path: str | Path, columns: Sequence[str], integers: Sequence[str] = (), texts: Sequence[str] = ()
    ):
        self.pa, parquet = require_pyarrow()
        types = {**{column: self.pa.int64() for column in integers}, **{column: self.pa.string() for column in texts}}
        self.schema = self.pa.schema([(column, types.get(column, self.pa.float64())) for column in columns])
        try:
            self.writer = parquet.ParquetWriter(str(path), self.schema)
        except OSError as error:
            raise _cannot_write(path, error) from None

    def write(self, block: Mapping[str, np.ndarray]) -> None:
        dtypes = {self.pa.int64(): np.int64, self.pa.string(): object}
        arrays = [np.asarray(block[field.name], dtype=dtypes.get(field.type, np.float64)) for field in self.schema]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()


def open_table(
    path: str | Path,
    columns: Sequence[str],
    integers: Sequence[str] = (),
    format: str | None = None,
    texts: Sequence[str] = (),
) -> CsvWriter | ParquetWriter:
    writer = ParquetWriter if format_for(path, format) == "parquet" else CsvWriter
    return writer(path, columns, integers, texts)
