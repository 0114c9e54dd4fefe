"""probes.py: the python plugin type's edge cases, run inside a hook by
tests/unit/test_plugin_python.c. The instant hook of `u_probe` runs every
probe and reports each failure as a warning and the count as an info."""

import datetime
from array import array

import prometheus_virtual_metrics as pvm
from prometheus_virtual_metrics import ForbiddenError, PROMETHEUS_RESPONSE_TYPE
from prometheus_virtual_metrics.plugins import BasicAuthPlugin, CatchErrorsPlugin
from prometheus_virtual_metrics.plugins.basic_auth import get_credentials
from prometheus_virtual_metrics.exceptions import PrometheusVirtualMetricsError
from prometheus_virtual_metrics.response import PrometheusResponse
from prometheus_virtual_metrics.request import PrometheusRequest
from prometheus_virtual_metrics.promql import PromqlQuery
from prometheus_virtual_metrics.context import PrometheusVirtualMetricsContext
from prometheus_virtual_metrics.constants import PLUGIN_HOOK_NAMES


def _never():
    raise AssertionError('a generator of an unselected series was read')
    yield


class Probes:
    def __init__(self, answer='0', tags=None):
        self.answer = answer
        self.tags = tags
        self.kept = None

    def on_startup(self, context):
        self.context = context

    def _probes(self, request, response):
        t = request.time
        add = response.add_sample
        return [
            ('value str', TypeError, lambda: add('u', 'x', t)),
            ('value bool', TypeError, lambda: add('u', True, t)),
            ('timestamp str', TypeError, lambda: add('u', 1, 'x')),
            ('label int', TypeError, lambda: add('u', 1, t, {'a': 1})),
            ('labels list', TypeError, lambda: add('u', 1, t, [1])),
            ('name int', TypeError, lambda: add(1, 1, t)),
            ('missing', TypeError, lambda: add('u', 1)),
            ('unknown kw', TypeError, lambda: add('u', 1, t, foo=1)),
            ('twice', TypeError, lambda: add('u', 1, t, metric_name='x')),
            ('too many', TypeError, lambda: add('u', 1, t, None, 0, 0, 0)),
            ('lazy raises', ZeroDivisionError,
             lambda: add('u', lambda: 1 / 0, t, {'k': 'lazy'},
                         skip_query_checks=True)),
            ('lazy not a number', TypeError,
             lambda: add('u', lambda: 'x', t, {'k': 'lazy2'},
                         skip_query_checks=True)),
            ('NUL in name', ValueError, lambda: add('u\0x', 1, t)),
            ('add_value', TypeError, lambda: response.add_value('x')),
            ('add_metadata', TypeError,
             lambda: response.add_metadata('u', 'gauge')),
            ('metric type', ValueError,
             lambda: response.add_metadata('u', 'nonsense')),
            ('float32 buffer', TypeError,
             lambda: response.add_samples('u_probe', array('f', [1, 2]))),
            ('odd buffer', ValueError,
             lambda: response.add_samples('u_probe', array('d', [1.0]))),
            ('pair of one', ValueError,
             lambda: response.add_samples('u_probe', [(1,)], {'k': 'x'})),
            ('samples not iterable', TypeError,
             lambda: response.add_samples('u_probe', 5, {'k': 'y'})),
        ]

    def _checks(self, request, response):
        utc = datetime.timezone.utc
        q = request.query
        return [
            ('unselected series not read',
             response.add_samples('other', _never()) is False),
            ('pairs added', response.add_samples(
                'u_probe', [(request.time, 1.0), (request.time.timestamp(), 2.0)],
                {'k': 'pairs'}) is True),
            ('not selected', response.add_sample('zz', 1, request.time) is False),
            ('selected', response.add_sample('u_probe', 3, request.time,
                                             {'k': 'one'}) is True),
            ('seconds as int', response.add_sample(
                'u_probe', 4, int(request.time.timestamp()), {'k': 'int'})),
            ('matches', q.matches('u_probe', {'a': 'b'}) is True),
            ('name_matches', q.name_matches('zzz') is False),
            ('name', q.name == 'u_probe'),
            ('string', q.string == 'u_probe'),
            ('ast', q.ast is None),
            ('time aware', request.time.tzinfo is utc),
            ('time value', request.time == datetime.datetime(
                1970, 1, 1, 0, 1, 40, 250000, tzinfo=utc)),
            ('step', request.step is None),
            ('timestamps', list(request.timestamps) == [request.time]),
            ('duration', request.duration_string == '0s'),
            ('path', request.path == ['query']),
            ('type', response.response_type is PROMETHEUS_RESPONSE_TYPE.VECTOR),
            ('count', response.result_count >= 3),
            ('status', response.http_status == 200),
            ('request', response.request is request),
            ('context', request.context is self.context),
            ('settings', self.context.settings.answer == '42'),
            ('json setting', self.tags == ['a', 'b']),
            ('raw setting', self.context.settings.get('plugin:probe', 'answer') == '42'),
            ('plugin name', self.context.settings.PLUGIN_NAME == 'probe'),
            ('credentials', get_credentials(request) == ('', '')),
            ('types', all(isinstance(x, type) for x in (
                PrometheusResponse, PrometheusRequest, PromqlQuery,
                PrometheusVirtualMetricsContext))),
            ('hooks', 'on_startup' in PLUGIN_HOOK_NAMES),
            ('forbidden', issubclass(ForbiddenError, PrometheusVirtualMetricsError)),
            ('deadline', issubclass(pvm.DeadlineExceeded, BaseException)),
            ('remaining', request.remaining_seconds is None
             or request.remaining_seconds > 0),
        ]

    def on_instant_query_request(self, request, response):
        name = request.query.name
        if name == 'u_probe':
            failed = 0
            for what, exc, fn in self._probes(request, response):
                try:
                    fn()
                except exc:
                    continue
                except BaseException as e:
                    response.add_warning(f'{what}: raised {e!r}')
                else:
                    response.add_warning(f'{what}: did not raise')
                failed += 1
            for what, ok in self._checks(request, response):
                if not ok:
                    response.add_warning(f'{what}: false')
                    failed += 1
            response.add_info(f'probes failed: {failed}')
        elif name == 'u_keep':
            self.kept = request
        elif name == 'u_kept':
            try:
                self.kept.time
            except RuntimeError as e:
                response.add_info(f'kept: {e}')
        elif name == 'u_bad_label':
            response.add_sample('u_bad_label', 1, request.time, {'': 'x'})


class Flaky:
    def on_instant_query_request(self, request, response):
        raise KeyError('gone')


class Shielded(CatchErrorsPlugin):
    def __init__(self):
        super().__init__(Flaky())


class Auth(BasicAuthPlugin):
    def __init__(self):
        super().__init__({'grafana': 's3cret'})


# a module-level object, named by `class =`
shielded_object = CatchErrorsPlugin(Flaky(), send_warnings=False)
