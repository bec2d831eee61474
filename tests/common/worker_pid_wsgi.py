"""CoC Desk's WSGI application, answering with the id of the worker process that served the request, so a test
driving several gunicorn workers can tell which one answered. Only the test servers load it."""

import os

from cocdesk.wsgi import application as cocdesk_application

WORKER_PID_HEADER = "X-Test-Worker-Pid"


def application(environ, start_response):
    def start_response_naming_the_worker(status, headers, exc_info=None):
        return start_response(status, [*headers, (WORKER_PID_HEADER, str(os.getpid()))], exc_info)

    return cocdesk_application(environ, start_response_naming_the_worker)
