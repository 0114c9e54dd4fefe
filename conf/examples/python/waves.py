"""waves.py: the example plugin of pvm (plugins/example.c) written as a
plugin class of the Python prometheus-virtual-metrics, for pvm's python
plugin type. One metric (``metric_name``) with the labels type (sine,
cosine, square, sawtooth) and amplitude (1, 5, 10): 12 series following
their wave over a 60 s period, computed at the timestamps asked. Its
answers are byte for byte those of the C example (tests/integration/
python.sh compares them).

    [plugin:waves]
    type = python
    file = waves.py
    class = Waves
    metric_name = example_metric

It adds each series in one call, ``response.add_samples(name, pairs,
labels)`` (pvm's fast path), where the original's ExamplePlugin called
``add_sample`` once per point.
"""

import math

TYPES = ('sine', 'cosine', 'square', 'sawtooth')
AMPLITUDES = ('1', '5', '10')
AMPLITUDE_VALUES = (1.0, 5.0, 10.0)


def unit_waves(secs):
    """The four waves at amplitude 1, `secs` seconds into their period."""
    return (
        math.sin(secs * 2 * math.pi / 60),
        math.cos(secs * 2 * math.pi / 60),
        1.0 if secs < 30 else -1.0,
        secs / 60,
    )


class Waves:
    def __init__(self, metric_name='prometheus_virtual_metrics_example_metric'):
        self.metric_name = metric_name

    def on_range_query_request(self, request, response):
        if not request.query.name_matches(self.metric_name):
            return
        stamps = list(request.timestamps)
        waves = []
        for t in stamps:
            secs = math.fmod(t.timestamp(), 60.0)
            if secs < 0:
                secs += 60.0
            waves.append(unit_waves(secs))
        for amplitude, scale in zip(AMPLITUDES, AMPLITUDE_VALUES):
            for i, wave_type in enumerate(TYPES):
                # a generator: only read when the query selects the series
                response.add_samples(
                    self.metric_name,
                    ((t, w[i] * scale) for t, w in zip(stamps, waves)),
                    metric_labels={'type': wave_type, 'amplitude': amplitude},
                )

    # an instant query asks for one timestamp: the same code
    on_instant_query_request = on_range_query_request

    def on_metric_names_request(self, request, response):
        if request.query.name_matches(self.metric_name):
            response.add_value(self.metric_name)

    def on_label_names_request(self, request, response):
        if request.query.name_matches(self.metric_name):
            response.add_value(['__name__', 'type', 'amplitude'])

    def on_label_values_request(self, request, response):
        if not request.query.name_matches(self.metric_name):
            return
        if request.label_name == 'type':
            response.add_value(list(TYPES))
        elif request.label_name == 'amplitude':
            response.add_value(list(AMPLITUDES))

    # pvm's metadata hook (not in the original): a gauge, with HELP
    def on_metadata_request(self, request, response):
        response.add_metadata(
            self.metric_name, 'gauge',
            help='Example waves (sine, cosine, square, sawtooth) with a '
                 '60 s period.')
