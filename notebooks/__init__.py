"""Not a package to import: this file only gives notebooks/conftest.py its own module name
(notebooks.conftest), so it does not shadow tests/conftest.py, which the tests import from."""
