"""A job as plans: what the data-less job process returns, checked and run by the trusted side.

``protocheck`` reads the Spark Connect message before Spark sees it;
``sandbox.engines.connect_planner`` turns it into a DataFrame of the trusted session; ``verify`` checks the analyzed logical plan against ``rules``;
``endpoint`` answers the job process's schema questions and refuses everything else.
"""
