"""Serve plotly.js from the installed plotly package, as a static file.

The plotly Python package ships the plotly.min.js it was built against, so
the browser always gets the matching version (plotly 6+ sends arrays as typed
arrays, which older plotly.js draws as empty plots), from our own origin and
under a hashed, cached-for-ever name after collectstatic.
"""

from importlib.util import find_spec
from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"
FILENAME = "plotly.min.js"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args, **kwargs):
        package_dir = Path(find_spec("plotly").submodule_search_locations[0])
        self.storage = FileSystemStorage(location=package_dir / "package_data")
        self.storage.prefix = PREFIX  # collected as vendor/plotly.min.js

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != f"{PREFIX}/{FILENAME}":
            return [] if find_all else None
        found = self.storage.path(FILENAME)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        yield FILENAME, self.storage
