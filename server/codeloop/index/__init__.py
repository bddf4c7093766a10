"""The workspace knowledge base: every Python file's definitions, imports and references in
one SQLite database per workspace root, kept up to date incrementally, with full-text
search, reference queries and a repo map.

Modules (each does one thing): ``location`` (where the database lives), ``words``
(identifier splitting for search), ``ignore`` (.gitignore rules), ``discover`` (which files
count), ``extract`` (one file's facts through tree-sitter), ``schema`` (tables, opening and
self-repair), ``store`` (writing facts), ``sync`` (the incremental update), ``resolve``
(names to definitions), ``queries`` (lookup, references, search, tests, callers), ``rank``
(personalised PageRank) and ``repomap`` (the ranked signatures fitted to a budget).
Nothing here imports pygls or the adapters.
"""
