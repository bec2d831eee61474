import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocdesk.settings")
application = get_wsgi_application()
# Django's apps, models and settings stay for the worker's lifetime: moved out of the collector's reach, they are no
# longer walked by every full collection a request triggers.
gc.freeze()
