"""Unattended runs: a simulated owner approves every flow unless told otherwise.

nbval executes the notebooks in kernels started from this process, so the
variable reaches them without editing a notebook.
"""

import os

os.environ.setdefault("SMARTCAR_TUTORIAL_AUTOPILOT", "approve")
