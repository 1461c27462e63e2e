"""CSV for Excel: a byte-order mark, CRLF, JST times, and no cell Excel would run as a formula."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.csv_export import cell, csv_response
from projections.records import RecordStatus


def test_cells_are_plain_text_for_excel() -> None:
    assert cell(None) == ""
    assert cell(540) == "540"
    assert cell(date(2025, 6, 19)) == "2025-06-19"
    assert cell(datetime(2025, 6, 18, 23, 0, tzinfo=UTC)) == "2025-06-19T08:00+09:00"
    assert cell(RecordStatus.COUNTED) == "counted"
    assert cell(("missing_exit", "clock_skew")) == "missing_exit clock_skew"
    assert cell((16, 17)) == "16 17"


def test_a_cell_that_would_be_a_formula_is_quoted() -> None:
    for text in ("=1+1", "+81 90", "-2", "@SUM(A1)", "\t=x"):
        assert cell(text) == "'" + text
    assert cell("配筋 = rebar") == "配筋 = rebar"


def test_the_file_has_a_bom_crlf_lines_and_a_file_name() -> None:
    response = csv_response(("就業日", "作業内容"), [[date(2025, 6, 19), "配筋, 型枠"]],
                            "career-1-2025.csv")
    assert response.body == "\ufeff就業日,作業内容\r\n2025-06-19,\"配筋, 型枠\"\r\n".encode()
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="career-1-2025.csv"'
