"""`python -m agnews_bert ...` runs the same CLI as the `agnews-bert` command."""

import sys

from .cli import main

if __name__ == "__main__":  # importing this module (pytest's --doctest-modules does) runs nothing
    sys.exit(main())
