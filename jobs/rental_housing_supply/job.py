"""Genuine rental housing supply (Daye annex 2, scenario 3: 真实房屋租赁场景).

Residential units registered for rent, per district and floor-area band. The privacy unit is the
owner: each owner contributes their number of such dwellings (bounded by the gate) and their
mean floor area in the cell.
"""

from pyspark.sql import functions as F

from sandbox.runtime.sdk import JobContext


def build(ctx: JobContext):
    units = ctx.input("units").where((F.col("usage") == "住宅") & F.col("rental_registered"))
    units = units.where(F.col("floor_area").isNotNull() & (F.col("floor_area") > 0))
    area = F.col("floor_area")
    banded = units.withColumn(
        "area_band",
        F.when(area < 60, "<60").when(area < 90, "60-90").when(area < 120, "90-120").when(area < 144, "120-144").otherwise("144+"),
    )
    frame = banded.groupBy("owner_id_number", "district_code", "area_band").agg(
        F.count(F.lit(1)).cast("double").alias("dwellings"), F.avg("floor_area").alias("floor_area")
    )
    return {"rental_dwellings_by_district": frame}
