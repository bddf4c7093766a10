"""Helpers shared by the test folders: the LSP client, the fake OpenAI server, model and
gen-tests helpers (imported as ``support.*``; pytest puts tests/ on ``sys.path``)."""
