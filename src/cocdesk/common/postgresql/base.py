"""Django's PostgreSQL backend with one change: the health check of a kept connection asks its socket before asking
the server.

Django checks a kept connection at the start of each request with a ``SELECT 1``: a round trip to the server, twice
for a reporter's submission (the form and the report). A connection the server has closed (a restart, an idle
timeout, a terminated backend) has a socket the kernel reports readable, at end of file; an idle one the server
keeps has nothing to read. So a connection that is idle, open and silent is taken as it is, and any other is checked
with Django's ``SELECT 1`` as before. A server that vanished without closing its end (a cut network) is noticed by
the first query, as it would be by the check itself.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        if raw.info.transaction_status == TransactionStatus.IDLE and not _readable(raw.fileno()):
            return True
        return super().is_usable()


def _readable(descriptor):
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
