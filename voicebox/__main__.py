"""``python -m voicebox``."""

import sys

from voicebox.cli.main import main

sys.exit(main())
