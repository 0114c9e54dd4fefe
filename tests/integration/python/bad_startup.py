"""bad_startup.py: on_startup raises, so the server must not start."""


class BadStartup:
    def on_startup(self, context):
        raise ConnectionError('cannot reach the database')
