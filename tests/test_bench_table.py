"""The benchmark rows (benchmarks/rows.py) and the table made of them (tools/bench_table.py)."""

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))

import bench_table  # noqa: E402
import rows  # noqa: E402
import time_builds  # noqa: E402


@pytest.mark.parametrize(
    ("ratio", "goal", "met"),
    [(0.4, "<= 0.5", True), (0.6, "<= 0.5", False), (1.0, ">= 0.95", True), (1, None, None)],
)
def test_goal_met_reads_the_direction_from_the_goal(ratio, goal, met):
    assert rows.goal_met(ratio, goal) is met


def test_a_goal_in_another_form_is_refused():
    with pytest.raises(ValueError, match="<= 0.5"):
        rows.goal_met(1.0, "twice as fast")


def test_rows_round_trip_through_printed_lines(capsys):
    row = rows.emit_row("bench_x.py: thing", ours=1.0, baseline=4.0, unit="s", goal="<= 0.5")
    assert row["ratio"] == 0.25 and row["met"] is True
    printed = "some other output\n" + capsys.readouterr().out
    assert rows.parse_rows(printed) == [row]


def test_table_has_one_line_per_row_with_ratio_goal_date_and_machine():
    row = rows.make_row("bench_x.py: rate", ours=1801, baseline=1787, unit="img/s", goal=">= 0.95")
    recorded = {**rows.make_row("make test", ours=200, baseline=263, unit="s"), "date": "d0"}
    text = bench_table.results_markdown([row], [recorded], "2026-12-01", "2 cores")
    line = "| bench_x.py: rate | 1,801 img/s | 1,787 img/s | 1.01× | >= 0.95 ✓ | 2026-12-01 |"
    assert line in text
    assert "| make test | 3 min 20 s | 4 min 23 s | 0.76× | — | d0 |" in text


def test_the_readme_block_is_replaced_and_a_missing_one_named():
    text = "a\n<!-- bench-table:start -->\nold\n<!-- bench-table:end -->\nb\n"
    assert bench_table.replace_block(text, "new\n") == (
        "a\n<!-- bench-table:start -->\nnew\n<!-- bench-table:end -->\nb\n"
    )
    with pytest.raises(ValueError, match="bench-table:start"):
        bench_table.replace_block("no markers", "new\n")


def test_time_builds_rows_replace_their_own_benchmark_only():
    new = time_builds.row("book_cold", 686.0, "0.1 -> 1.9", "abc1234", "chapters executed: 01 3 s")
    assert new["ratio"] == pytest.approx(686 / 1800) and new["met"] is True
    assert "(load 0.1 -> 1.9)" in new["machine"] and new["load_average"] is None
    assert new["note"] == "commit abc1234; chapters executed: 01 3 s"
    slow = time_builds.row("test", 700.0, "0.0 -> 2.0", "abc1234", "")
    assert slow["met"] is False and slow["note"] == "commit abc1234"
    other = {"benchmark": "something else", "ours": 1}
    stale = {**new, "ours": 9999}
    assert time_builds.merged([new], [stale, other]) == [new, other]


def test_a_regenerated_table_keeps_the_date_its_log_was_written(tmp_path, monkeypatch, capsys):
    import os

    rows.emit_row("bench_x.py: thing", ours=1.0, baseline=4.0, unit="s", goal="<= 0.5")
    log = tmp_path / "bench_x.log"
    log.write_text(capsys.readouterr().out)
    os.utime(log, (1_796_300_000, 1_796_300_000))  # 2026-12-03 12:13 UTC, not now
    out = tmp_path / "results.md"
    argv = ["bench_table.py", str(log), "--out", str(out), "--recorded", str(tmp_path / "none")]
    monkeypatch.setattr(sys, "argv", argv)
    bench_table.main()
    text = out.read_text()
    assert "Measured by `make bench` on 2026-12-03 12:13 UTC" in text
    assert "| <= 0.5 ✓ | 2026-12-03 12:13 UTC |" in text
