"""reload.py: one constant; the test edits VALUE and sends SIGHUP."""

VALUE = 1


class Reloaded:
    def on_instant_query_request(self, request, response):
        response.add_sample('reload_metric', VALUE, request.time)
