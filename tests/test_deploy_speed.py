"""The deploy client's CPU savings keep their meaning: the worker pool bounds and cancels like a per-step executor,
and the environment read once per host gives requests exactly what it would compute per request."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from flowdef.deploy.client import settle_environment
from flowdef.deploy.pool import Pool


def test_pool_bounds_concurrency_and_keeps_order():
    pool = Pool(8)
    pool.warm()
    running, peak, guard = [0], [0], threading.Lock()

    def work(i: int) -> int:
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.01)
        with guard:
            running[0] -= 1
        return i * 2

    try:
        assert pool.map(work, list(range(20)), workers=3) == [i * 2 for i in range(20)]
        assert 1 < peak[0] <= 3
    finally:
        pool.close()


def test_pool_runs_nested_maps_inline_and_cancels_the_rest_on_error():
    pool = Pool(2)
    started: list[int] = []

    def inner(i: int) -> int:
        return sum(pool.map(lambda j: j, [i, i], workers=2))  # from a worker: inline, no deadlock

    assert pool.map(inner, [1, 2, 3], workers=2) == [2, 4, 6]

    def boom(i: int) -> int:
        started.append(i)
        if i == 0:
            raise KeyboardInterrupt
        time.sleep(0.05)
        return i

    with pytest.raises(KeyboardInterrupt):
        pool.map(boom, list(range(30)), workers=2)
    assert len(started) < 30  # what had not started was cancelled
    pool.close()


@pytest.mark.parametrize("no_proxy", ["", "ws.example.com", "other.example.com"])
def test_environment_read_once_equals_what_requests_reads_per_request(monkeypatch, no_proxy, tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    url = "https://ws.example.com/api/2.2/jobs/list"
    per_request = requests.Session().merge_environment_settings(url, {}, None, None, None)
    session = requests.Session()
    settle_environment(session, "https://ws.example.com")
    assert session.trust_env is False
    settled = session.merge_environment_settings(url, {}, None, None, None)
    assert settled["verify"] == per_request["verify"] == str(bundle)
    assert {k: v for k, v in session.proxies.items() if k != "no"} == \
        {k: v for k, v in per_request["proxies"].items() if k != "no"}
    assert ("https" in session.proxies) == (no_proxy != "ws.example.com")
