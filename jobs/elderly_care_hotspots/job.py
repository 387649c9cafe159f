"""Elderly and disability service hotspots (Daye annex 2, scenario 2).

One row per elderly resident and cell: age band from the birth date at the run's reference
date, and whether the resident holds a disability certificate (severe: level 1 or 2).
"""

from pyspark.sql import functions as F

from sandbox.runtime.sdk import JobContext


def build(ctx: JobContext):
    people = ctx.input("population").where(F.col("birth_date").isNotNull())
    age = F.floor(F.months_between(F.lit(ctx.as_of), F.col("birth_date")) / 12)
    elderly = people.withColumn("age", age).where(F.col("age") >= 60)
    elderly = elderly.withColumn(
        "age_band",
        F.when(F.col("age") < 70, "60-69").when(F.col("age") < 80, "70-79").otherwise("80+"),
    )
    disability = (
        ctx.input("disability")
        .groupBy("id_number")
        .agg(F.min("disability_level").alias("best_level"))
        .withColumn("is_disabled", F.lit(1.0))
        .withColumn("is_severe", F.when(F.col("best_level") <= 2, 1.0).otherwise(0.0))
    )
    joined = elderly.join(disability, "id_number", "left").fillna(0.0, subset=["is_disabled", "is_severe"])
    by_district = joined.select("id_number", "district_code", "age_band", "is_disabled", "is_severe")
    by_community = joined.where(F.col("age") >= 80).select("id_number", "community_code", "is_disabled")
    return {"elderly_by_district": by_district, "oldest_old_by_community": by_community}
