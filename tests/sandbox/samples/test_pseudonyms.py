"""Keyed pseudonyms in Spark: real HMAC-SHA256, valid formats, consistent per key, unrelated across keys."""

from __future__ import annotations

import hashlib
import hmac

from pyspark.sql import functions as F

from sandbox.samples import pseudonyms as ps
from sandbox.samples.checks import is_resident_id, is_uscc, luhn_ok
from sandbox.samples.names import synthetic_given_pool
from sandbox.samples.structured import community_level

KEY, OTHER = b"k" * 32, b"o" * 32


def test_spark_hmac_is_rfc2104(spark):
    row = (
        spark.createDataFrame([("42990319560718043X",)], "v string")
        .select(ps.hmac_hex(KEY, F.col("v")).alias("h"))
        .first()
    )
    assert row.h == hmac.new(KEY, b"42990319560718043X", hashlib.sha256).hexdigest()


def test_formats_survive_and_the_same_value_maps_the_same(spark):
    ids = [f"4299021950{m:02d}1{d}04{i}" for m in range(1, 13) for d in range(10) for i in range(10)]
    frame = spark.createDataFrame([(v, v, v, v, "湖北省云泽市云泽区西畈街道白湾社区府前大道154号") for v in ids] + [(None,) * 5],
                                  "rid string, uscc string, card string, mobile string, address string")  # fmt: skip
    out = ps.bank_card(
        ps.mobile(ps.uscc(ps.resident_id(frame, "rid", KEY), "uscc", KEY), "mobile", KEY), "card", KEY
    )
    rows = out.withColumn("address", community_level("address")).collect()
    values = [r for r in rows if r.rid is not None]
    assert all(is_resident_id(r.rid) and r.rid[0] == "9" for r in values)
    assert all(is_uscc(r.uscc) and r.uscc[2:4] == "99" for r in values)
    assert all(luhn_ok(r.card) and len(r.card) == 19 for r in values)
    assert all(len(r.mobile) == 11 and r.mobile[0] == "1" for r in values)
    assert len({r.rid for r in values}) == len(ids)
    assert {r.address for r in values} == {"湖北省云泽市云泽区西畈街道白湾社区"}
    assert rows[-1].asDict() == {"rid": None, "uscc": None, "card": None, "mobile": None, "address": None}
    again = ps.resident_id(frame, "rid", KEY).collect()
    other = ps.resident_id(frame, "rid", OTHER).collect()
    assert [r.rid for r in again] == [r.rid for r in rows]
    assert not {r.rid for r in other if r.rid} & {r.rid for r in values}


def test_synthetic_names_are_consistent_and_never_real(spark):
    frame = spark.createDataFrame([("张伟",), ("张伟",), ("李娜",), (None,)], "name string")
    names = [r.name for r in ps.person_name(frame, "name", KEY).collect()]
    assert names[0] == names[1] != names[2] and names[3] is None
    pool = set(synthetic_given_pool())
    assert all(set(n[1:]) <= pool for n in names[:3])
