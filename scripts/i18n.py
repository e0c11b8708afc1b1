#!/usr/bin/env python3
# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Extract the portal's messages into addons/<module>/i18n/<code>.po

    python scripts/i18n.py extract [module …]   update the catalogs
    python scripts/i18n.py check [module …]     fail on a missing translation

`make i18n` runs the extraction for every module with portal templates or
translations (see trytond.modules.lk_portal.i18n).
"""
import sys

from trytond.modules.lk_portal import i18n

if __name__ == '__main__':
    sys.exit(i18n.main())
