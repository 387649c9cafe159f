"""Spark session and Ray connection factories: the only place engines are built."""
