"""What a job's plan may contain, as data: Spark Connect relations, Catalyst plan nodes and expressions.

An allowlist, not a blocklist: a construct a new Spark release adds is refused until someone adds it
here, with the reason it cannot reach the JVM, run user code, read a file or make success depend on a
value. Names are Catalyst's simple class names (``TreeNode.toJSON``'s ``class`` without its package).
"""

from __future__ import annotations

#: Spark Connect relation kinds a job's message may hold (checked before Spark parses anything).
#: Left out on purpose: ``sql`` (may hold commands the planner runs at once), local and cached data,
#: ranges, samples, data sources, table functions, every map/apply (user code), statistics computed
#: eagerly (``approx_quantile``, ``corr``, ``describe``…), hints, extensions.
RELATIONS = frozenset({
    "read", "project", "filter", "join", "set_op", "sort", "limit", "aggregate", "deduplicate",
    "subquery_alias", "to_df", "with_columns_renamed", "drop", "with_columns", "unpivot", "fill_na",
    "drop_na", "replace", "offset",
})  # fmt: skip

#: Spark Connect expression kinds; ``common_inline_user_defined_function`` (every UDF) and
#: ``subquery_expression`` (another plan inside an expression) are not among them.
EXPRESSIONS = frozenset({
    "literal", "unresolved_attribute", "unresolved_function", "expression_string", "unresolved_star",
    "alias", "cast", "sort_order", "lambda_function", "window", "unresolved_extract_value",
    "unresolved_named_lambda_variable", "call_function", "named_argument_expression",
})  # fmt: skip

#: Catalyst logical plan nodes of an analyzed job plan. ``View`` is where a declared input begins;
#: what is under it the trusted side built and is not walked.
PLAN_NODES = frozenset({
    "Project", "Filter", "Join", "Aggregate", "Window", "Sort", "SubqueryAlias", "View", "Union",
    "Intersect", "Except", "Distinct", "Deduplicate", "Expand", "GlobalLimit", "LocalLimit", "Offset",
})  # fmt: skip

_ARITHMETIC = {
    "Add", "Subtract", "Multiply", "Divide", "IntegralDivide", "Remainder", "Pmod", "UnaryMinus",
    "UnaryPositive", "Abs", "Floor", "Ceil", "Round", "BRound", "Sqrt", "Pow", "Exp", "Log", "Log10",
    "Log2", "Logarithm", "Signum", "Greatest", "Least", "RoundCeil", "RoundFloor", "Cbrt", "Hypot",
    "CheckOverflow", "PromotePrecision", "MakeDecimal", "UnscaledValue",
}  # fmt: skip
_LOGIC = {
    "And", "Or", "Not", "EqualTo", "EqualNullSafe", "LessThan", "LessThanOrEqual", "GreaterThan",
    "GreaterThanOrEqual", "In", "InSet", "IsNull", "IsNotNull", "IsNaN", "If", "CaseWhen", "Coalesce",
    "NaNvl", "NullIf", "Nvl", "Nvl2", "IfNull", "AtLeastNNonNulls", "EqualNull", "Between",
}  # fmt: skip
_STRINGS = {
    "Upper", "Lower", "StringTrim", "StringTrimLeft", "StringTrimRight", "Substring", "Left", "Right",
    "Concat", "ConcatWs", "Length", "StringReplace", "StringLPad", "StringRPad", "StringInstr",
    "StringLocate", "Contains", "StartsWith", "EndsWith", "Like", "ILike", "RLike", "RegExpReplace",
    "RegExpExtract", "StringTranslate", "InitCap", "StringRepeat", "Reverse", "SubstringIndex",
    "FormatNumber", "Overlay", "StringSplit", "OctetLength", "BitLength", "Collate", "Collation",
}  # fmt: skip
_DATES = {
    "MonthsBetween", "DateAdd", "DateSub", "DateDiff", "AddMonths", "Year", "Month", "DayOfMonth",
    "DayOfWeek", "WeekDay", "WeekOfYear", "DayOfYear", "Quarter", "Hour", "Minute", "Second", "LastDay",
    "NextDay", "TruncDate", "TruncTimestamp", "DateFormatClass", "ParseToDate", "ParseToTimestamp",
    "MakeDate", "GetTimestamp", "ToDate", "TimeAdd", "DatetimeSub", "SubtractDates", "SubtractTimestamps",
    "Extract", "DatePart", "ToUnixTimestamp", "UnixTimestamp", "FromUnixTime", "TimestampAdd",
    "TimestampDiff", "DateAddInterval", "MultiplyInterval", "DivideInterval",
}  # fmt: skip
_AGGREGATES = {
    "AggregateExpression", "Count", "Sum", "Average", "Min", "Max", "First", "Last", "CountIf",
    "BoolAnd", "BoolOr", "AnyValue", "Median", "StddevSamp", "StddevPop", "VarianceSamp", "VariancePop",
    "CollectSet", "CollectList", "Percentile", "MaxBy", "MinBy", "CountDistinct", "HyperLogLogPlusPlus",
    "Grouping", "GroupingID", "SpecifiedWindowFrame", "UnspecifiedFrame", "WindowExpression",
    "WindowSpecDefinition", "RowNumber", "Rank", "DenseRank", "PercentRank", "CumeDist", "NTile", "Lag",
    "Lead", "NthValue", "UnboundedPreceding$", "UnboundedFollowing$", "CurrentRow$", "SortOrder",
}  # fmt: skip
_STRUCTURE = {
    "AttributeReference", "Alias", "Literal", "Cast", "KnownNotNull", "KnownFloatingPointNormalized",
    "NormalizeNaNAndZero", "CreateNamedStruct", "CreateArray", "GetStructField", "GetArrayItem",
    "ElementAt", "Size", "ArrayContains", "SortArray", "ArrayDistinct", "CreateMap", "GetMapValue",
    "OuterReference", "NamedLambdaVariable", "LambdaFunction", "ArrayTransform", "ArrayFilter",
    "ArrayExists", "ArrayForAll", "ArrayAggregate",
}  # fmt: skip

#: Catalyst expressions a job may use. Not among them: every UDF (``ScalaUDF``, ``PythonUDF``…),
#: reflection (``CallMethodViaReflection``, ``StaticInvoke``, ``Invoke``), file and partition
#: functions (``InputFileName``, ``SparkPartitionID``), randomness, hashing (a hash can key a
#: lookup table) and anything whose failure depends on a value (``RaiseError``, ``AssertTrue``).
EXPRESSION_NODES = frozenset(_ARITHMETIC | _LOGIC | _STRINGS | _DATES | _AGGREGATES | _STRUCTURE)

#: Why the notable refusals are refused, for the developer (Chinese, English).
REASONS: dict[str, tuple[str, str]] = {
    "udf": ("用户定义函数会在执行器上运行作业自己的代码", "a user-defined function runs the job's own code on executors"),
    "reflection": ("反射可调用 JVM 中任意方法", "reflection calls any method in the JVM"),
    "raise": ("成败取决于某个值，会把该值泄露给开发者", "success that depends on a value leaks that value to the developer"),
    "file": ("读取文件名或分区信息", "it reads file names or partition layout"),
    "source": ("作业只能读取清单声明的输入", "a job reads only the inputs its manifest declares"),
    "eager": ("构建计划时会执行作业（读取数据）", "it would run a Spark job (touch rows) while the plan is built"),
    "command": ("SQL 语句可能包含立即执行的命令", "a SQL statement may hold commands that run at once"),
    "join": ("连接只能是列与列的等值连接", "a join may only equate columns of its two sides"),
    "window": ("跨主体的窗口会把他人的值放到某个主体的行上；请按主体列分区，或在 job.toml 的 join_keys 中声明分区列",
               "a window across subjects puts other subjects' values on a subject's rows; partition by the subject "
               "column, or declare the partition column in job.toml's join_keys"),
    "entity": ("门控按主体计数，主体列被改写或另造就无法计数", "the gate counts subjects; a made-up subject column defeats that"),
    "other": ("不在允许清单中", "it is not on the allowlist"),
}  # fmt: skip

#: Which reason a refused Catalyst class or Connect kind gets (anything else: ``other``).
REASON_OF: dict[str, str] = {
    **dict.fromkeys(("ScalaUDF", "PythonUDF", "ScalaUDAF", "ScalaAggregator", "PythonUDAF",
                     "common_inline_user_defined_function", "map_partitions", "group_map", "co_group_map",
                     "apply_in_pandas_with_state", "common_inline_user_defined_table_function",
                     "common_inline_user_defined_data_source"), "udf"),
    **dict.fromkeys(("CallMethodViaReflection", "StaticInvoke", "Invoke", "NewInstance"), "reflection"),
    **dict.fromkeys(("RaiseError", "AssertTrue"), "raise"),
    **dict.fromkeys(("InputFileName", "InputFileBlockStart", "InputFileBlockLength", "SparkPartitionID",
                     "MonotonicallyIncreasingID"), "file"),
    **dict.fromkeys(("LocalRelation", "LogicalRDD", "LogicalRelation", "Range", "local_relation", "range",
                     "data_source", "cached_local_relation", "cached_remote_relation", "catalog",
                     "chunked_cached_local_relation", "unresolved_table_valued_function"), "source"),
    **dict.fromkeys(("approx_quantile", "corr", "cov", "crosstab", "freq_items", "describe", "summary",
                     "pivot_without_values"), "eager"),
    "sql": "command",
}  # fmt: skip


def reason(name: str) -> tuple[str, str]:
    """The (Chinese, English) reason a construct or rule is refused."""
    return REASONS.get(name) or REASONS[REASON_OF.get(name, "other")]
