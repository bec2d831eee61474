import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocdesk.settings")
application = get_wsgi_application()
# Django's apps, models and settings stay for the worker's lifetime: moved out of the collector's reach, they are no
# longer walked by every full collection a request triggers.
gc.freeze()
# A request makes thousands of short-lived objects and almost no reference cycles, so the collector's default
# (a pass every 700 new objects) ran several passes per request for nearly nothing: one pass per 50,000 keeps at
# most a few megabytes of cyclic garbage waiting, for 2% of a submission's work.
GC_NEW_OBJECTS_PER_PASS = 50_000
gc.set_threshold(GC_NEW_OBJECTS_PER_PASS, *gc.get_threshold()[1:])
