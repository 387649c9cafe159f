"""The production topology as local processes on loopback (``deploy/local-cluster start|stop|status``).

``topology`` says what the pieces are, in dependency order, and how each is known to be healthy;
``supervisor`` starts, checks and stops them, with pid files and logs under the home.
"""
