"""The services: one core entry point per capability.

Each service takes a typed request dataclass and a :class:`codeloop.job.Job` (progress
and cancellation) and returns a typed outcome dataclass. No pygls, no argparse, no
printing: the CLI (:mod:`codeloop.cli`), the language server (:mod:`codeloop.lsp`) and
the agent tools are thin adapters over these modules.
"""
