"""Offline stand-in for the get-pip.py that ansible-test downloads to bootstrap its virtualenvs.

ansible-test runs the cached bootstrap script with the venv's Python and pip-install arguments.
The download host is unreachable here, so this bootstraps pip from the standard library's
ensurepip and then installs the pinned pip from the package index like the real script would.
"""

import subprocess
import sys

GET_PIP_ONLY_FLAGS = ("--no-setuptools", "--no-wheel")

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"]
                      + [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS])
