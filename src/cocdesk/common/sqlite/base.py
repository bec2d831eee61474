"""Django's SQLite backend with one change: the text of a statement is converted to SQLite's parameter style
(``%s`` to ``?``) once per worker, not on every execution.

Django's cursor rewrites the text with a regular expression each time it runs it, which on the statements of a
submission (long multi-row INSERTs above all) costs more than SQLite takes to run them. The same few hundred texts
come back on every request, so the converted text is kept, most recently used first, by the text itself.
"""

import functools

from django.db.backends.sqlite3 import base

# Enough for every statement text the application runs in a day; a text over it is converted again, never wrong.
_TEXTS_KEPT = 2048


@functools.lru_cache(maxsize=_TEXTS_KEPT)
def _qmark_style(query):
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return _qmark_style(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
