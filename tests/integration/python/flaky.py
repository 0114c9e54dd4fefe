"""flaky.py: fails every query hook (the catch_errors scenario of the
seed: a flaky plugin beside a good one)."""

from prometheus_virtual_metrics.plugins import CatchErrorsPlugin


class Flaky:
    def on_instant_query_request(self, request, response):
        raise RuntimeError('database is down')

    async def on_range_query_request(self, request, response):
        raise RuntimeError('database is down (async)')


class ShieldedFlaky(CatchErrorsPlugin):
    """The original's way: a Python settings file wrapping a plugin."""

    def __init__(self):
        super().__init__(Flaky())
