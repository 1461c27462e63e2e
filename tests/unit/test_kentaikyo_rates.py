"""掛金日額: the effective-dated table, its 2021-10-01 change, and the data file's validation."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from projections.kentaikyo import (
    RateNotDefined,
    RateTableError,
    daily_rate,
    parse_rate_table,
    shipped_rate_table,
)

GOOD = """
sources = ["https://www.kentaikyo.taisyokukin.go.jp/denshi/denshi1.html"]
checked_on = 2026-11-21
[[daily_rates]]
effective_from = 2019-04-01
yen = 310
[[daily_rates]]
effective_from = 2021-10-01
yen = 320
"""


class TestShippedTable:
    def test_last_day_at_310_is_2021_09_30(self) -> None:
        assert daily_rate(date(2021, 9, 30)) == 310

    def test_first_day_at_320_is_2021_10_01(self) -> None:
        assert daily_rate(date(2021, 10, 1)) == 320

    def test_a_later_date_keeps_the_latest_rate(self) -> None:
        assert daily_rate(date(2026, 11, 21)) == 320

    def test_rates_are_exact_ints_not_floats_or_decimals(self) -> None:
        assert type(daily_rate(date(2021, 10, 1))) is int

    def test_a_date_before_the_first_entry_is_refused_naming_the_start(self) -> None:
        with pytest.raises(RateNotDefined, match="starts on 2019-04-01"):
            daily_rate(date(2019, 3, 31))

    def test_a_datetime_is_refused_rather_than_compared(self) -> None:
        with pytest.raises(TypeError, match="must be a date"):
            daily_rate(datetime(2021, 10, 1, 8, 0))  # a date subclass, so only checked at run time

    def test_the_table_cites_the_official_source_and_when_it_was_checked(self) -> None:
        table = shipped_rate_table()
        assert "https://www.kentaikyo.taisyokukin.go.jp/denshi/denshi1.html" in table.sources
        assert table.checked_on >= date(2021, 10, 1)


class TestDataValidation:
    def test_a_well_formed_file_loads(self) -> None:
        table = parse_rate_table(GOOD, "t.toml")
        assert [(r.effective_from, r.yen) for r in table.rates] == [
            (date(2019, 4, 1), 310), (date(2021, 10, 1), 320),
        ]

    @pytest.mark.parametrize(("broken", "key"), [
        (GOOD.replace("yen = 320", "yen = 320.5"), "daily_rates[1].yen"),
        (GOOD.replace("yen = 320", "yen = true"), "daily_rates[1].yen"),
        (GOOD.replace("yen = 310", "yen = 0"), "daily_rates[0].yen"),
        (GOOD.replace("2021-10-01", "2019-04-01"), "daily_rates"),
        (GOOD.replace("2021-10-01", "2018-01-01"), "daily_rates"),
        (GOOD.replace("effective_from = 2019-04-01", 'effective_from = "2019-04-01"'),
         "daily_rates[0].effective_from"),
        (GOOD.replace("yen = 310", "yen = 310\nnote = 'x'"), "daily_rates[0]"),
        (GOOD.replace('sources = ["https://www.kentaikyo.taisyokukin.go.jp/denshi/denshi1.html"]',
                      "sources = []"), "sources"),
        (GOOD.replace("checked_on = 2026-11-21", ""), "checked_on"),
        ("checked_on = 2026-11-21\nsources = ['x']\n", "daily_rates"),
        ("not toml [", "(file)"),
    ])
    def test_a_broken_file_fails_naming_the_key(self, broken: str, key: str) -> None:
        with pytest.raises(RateTableError) as raised:
            parse_rate_table(broken, "t.toml")
        assert raised.value.key == key
