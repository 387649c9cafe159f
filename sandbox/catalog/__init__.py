"""Providers, datasets, columns and grading; versioned ingest into the raw zone with quarantine."""
