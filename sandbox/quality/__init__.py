"""Data quality on the production side: rule suites, GX validation in Spark, scores, reports,
correction tickets with failing keys, provider scorecards and webhook delivery.

The suites themselves are data in the repository's top-level ``quality/suites``.
"""
