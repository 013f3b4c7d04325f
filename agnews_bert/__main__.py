"""`python -m agnews_bert ...` runs the same CLI as the `agnews-bert` command."""

import sys

from .cli import main

sys.exit(main())
