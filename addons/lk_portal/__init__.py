# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
# The portal's own pages and API operations; a feature module's register
# when its lk.portal extension is loaded (see extension.py)
from . import api, routes  # noqa: F401
