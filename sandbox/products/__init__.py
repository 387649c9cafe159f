"""Product registry (登记), versions, release, delivery, re-development."""
