"""features.py: a plugin for tests/integration/python.sh exercising the
python plugin type: keyword settings (json: too), async hooks, lazy
values, ForbiddenError, exceptions, deadlines, sqlite3 and the request's
attributes. Each behaviour answers one metric name (request.query.name)
or one label (label values requests)."""

import asyncio
import sqlite3
import sys
import time

from prometheus_virtual_metrics import ForbiddenError
from prometheus_virtual_metrics.plugins import CatchErrorsPlugin  # NOQA


class Features:
    def __init__(self, database, options=None, greeting='hello'):
        self.database = database
        self.options = options or {}
        self.greeting = greeting
        self.lazy_calls = 0
        self.started = False

    async def on_startup(self, context):
        await asyncio.sleep(0.001)
        self.db = sqlite3.connect(self.database)
        self.logger = context.logger
        self.started = context.settings.PLUGIN_NAME

    def on_shutdown(self, context):
        self.db.close()

    def _lazy(self):
        self.lazy_calls += 1
        return 42

    def on_instant_query_request(self, request, response):
        name = request.query.name
        if name == 'feat_forbidden':
            raise ForbiddenError('no entry')
        if name == 'feat_boom':
            raise ValueError('boom in the plugin')
        if name == 'feat_loop':
            while True:
                pass
        if name == 'feat_sleep':
            time.sleep(60)
        if name == 'feat_lazy':
            before = self.lazy_calls
            added = [
                response.add_sample(
                    'feat_lazy', metric_value=self._lazy,
                    timestamp=request.time, metric_labels={'kind': kind})
                for kind in ('kept', 'dropped')]
            response.add_info(
                f'lazy calls: {self.lazy_calls - before}, added: {added}')
        if name == 'feat_types':
            # a float, an int, a Decimal-like number and a timestamp as
            # seconds instead of a datetime
            t = request.time.timestamp()
            response.add_sample('feat_types', 1.5, t, {'k': 'float'})
            response.add_sample('feat_types', 2, t, {'k': 'int'})
            response.add_sample('feat_types', True, t, {'k': 'bool'},
                                skip_type_checks=True)

    async def on_range_query_request(self, request, response):
        name = request.query.name
        if name == 'feat_async':
            await asyncio.sleep(0.005)
            for t in request.timestamps:
                response.add_sample('feat_async', request.step, t,
                                    {'src': 'async'})
        if name == 'feat_sqlite':
            start = request.start.timestamp()
            end = request.end.timestamp()
            rows = self.db.execute(
                'SELECT ts, value FROM readings WHERE ts BETWEEN ? AND ? '
                'ORDER BY ts', (start, end)).fetchall()
            response.add_samples('feat_sqlite', rows, {'db': 'sqlite'})
        if name == 'feat_buffer':
            from array import array
            pairs = array('d')
            for t in request.timestamps:
                pairs.extend((t.timestamp(), 7.0))
            response.add_samples('feat_buffer', pairs)
        if name == 'feat_async_loop':
            while True:
                await asyncio.sleep(0)

    def on_label_values_request(self, request, response):
        label = request.label_name
        values = {
            'py_prefix': sys.prefix,
            'py_version': '%d.%d' % sys.version_info[:2],
            'option_list': ','.join(str(x) for x in self.options.get('list', [])),
            'greeting': self.greeting,
            'started': str(self.started),
            'header': request.http_headers.get('x-pvm-test', 'none'),
            'path': '/'.join(request.path),
            'query_arg': request.http_query.get('START', 'none'),
        }
        if label in values:
            response.add_value(values[label])
        if label == 'psycopg2':
            try:
                import psycopg2
                response.add_value('psycopg2 ' + psycopg2.__version__.split()[0])
            except ImportError:
                response.add_value('missing')
