"""Loan-support statistics for enterprises (Daye annex 2, scenario 1: 金融贷款服务场景).

One row per operating enterprise: its industry, district, registered capital (万元) and whether
it has any administrative penalty on record.
"""

from pyspark.sql import functions as F

from sandbox.runtime.sdk import JobContext

OPERATING = ["存续", "在业"]


def build(ctx: JobContext):
    enterprises = ctx.input("enterprises").where(F.col("status").isin(OPERATING))
    penalised = ctx.input("penalties").select("uscc").distinct().withColumn("has_penalty", F.lit(1.0))
    frame = (
        enterprises.join(penalised, "uscc", "left")
        .fillna(0.0, subset=["has_penalty"])
        .select("uscc", "industry_code", "district_code", "has_penalty", "registered_capital")
    )
    return {"credit_by_industry_district": frame}
