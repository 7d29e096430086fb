"""AccessPlane: an open-source control plane for API access."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("accessplane")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
