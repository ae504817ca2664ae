"""WSGI shim gunicorn loads for every OpenStack API of the test bed.

OpenStack WSGI modules parse ``sys.argv`` with oslo.config, so gunicorn's
own arguments must not reach them.  ``TB_WSGI_ARGV`` (JSON list) becomes
``sys.argv`` and ``TB_WSGI_TARGET`` (``module:attr``) names the app.
"""

import importlib
import json
import os
import sys

sys.argv = json.loads(os.environ.get("TB_WSGI_ARGV") or '["wsgi"]')
_module, _, _attr = os.environ["TB_WSGI_TARGET"].partition(":")
application = getattr(importlib.import_module(_module), _attr or "application")
