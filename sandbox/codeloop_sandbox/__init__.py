"""codeloop_sandbox: run commands and pytest over a copy of a workspace under bubblewrap.

Standalone: it never imports ``codeloop``.
"""

__version__ = "0.1.0"
