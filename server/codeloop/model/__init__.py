"""The model client package: one :class:`~codeloop.model.client.ModelClient` interface,
its providers (:mod:`codeloop.model.providers`; ``openai`` is the built-in one), the
errors every provider raises, the shared client cache and the worker-thread helpers
that let the async language server await blocking model calls. No pygls here."""
