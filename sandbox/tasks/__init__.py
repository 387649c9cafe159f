"""Long actions behind the API: queued in the metadata store, run by a worker, never lost silently.

The store is the queue (``queue.py``): on PostgreSQL any number of workers claim tasks with
``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite one worker runs them in order. ``kinds.py`` says
which services may be queued and who may queue them; ``worker.py`` runs them and records progress.
"""
