"""The service boundary: FastAPI, one router per actor, every endpoint behind one access rule.

Routers hold no business logic: each endpoint resolves its principal through ``access.Allow``,
calls the same service the CLI calls, and returns what ``views`` makes of the result. Errors
leave as the platform's bilingual errors with stable codes (``errors``), never as a traceback.
"""
