"""Real read-only and full folders for the write-path tests (see tests/disk_fixtures.py)."""

from tests.disk_fixtures import full_folder, read_only_folder  # noqa: F401 (fixtures)
