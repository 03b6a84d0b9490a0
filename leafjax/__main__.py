"""``python -m leafjax ...``: the same command-line interface as the ``leafjax`` console script."""

import sys

from .cli import main

sys.exit(main())
