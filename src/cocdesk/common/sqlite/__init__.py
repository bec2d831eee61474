"""Django's SQLite backend, converting each statement's text to SQLite's parameter style once per worker
(``base.py``)."""
