"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test runs it as ``python get_pip_X_Y.py [pip options] pip==X.Y --no-setuptools
--no-wheel`` in a fresh venv. The machine reaches the package index but not the host the
real script lives on, so: bootstrap pip from the interpreter's own ``ensurepip``, then let
that pip install what was asked for.
"""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
