"""`python -m desktop_app` runs the app, like the `inbetween-studio` entry point."""

import sys

from .main import main

sys.exit(main())
