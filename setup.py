"""Packages are found, not listed (issue 10); migrations/ and resources/ ship as mapped data packages."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["mirror_desktop", "mirror_desktop.*"])
      + ["mirror_desktop.migrations", "mirror_desktop.assets"])
