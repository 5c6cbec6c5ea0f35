"""What `make bench` (python -m bench) runs."""

from bench.__main__ import benchmarks


def test_every_benchmark_runs_but_the_request_cpu_measurement_which_takes_minutes():
    names = benchmarks()

    assert "request_cpu" not in names
    assert {"ingest", "fanout", "dispatching_log", "end_to_end"} <= set(names)
    assert not [name for name in names if name.startswith("_")]
