"""Plain dataclasses, enums and state machines. Imports nothing else of Shuyu's and does no I/O."""
