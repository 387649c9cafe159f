#!/usr/bin/env bash
# Start (or stop) a Spark standalone master and one worker on loopback, from the venv's PySpark.
# Then: export SANDBOX_SPARK_MASTER=spark://127.0.0.1:7077
set -euo pipefail
cd "$(dirname "$0")/../.."
SPARK_HOME="$(.venv/bin/python -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))')"
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_MASTER_HOST=127.0.0.1
export SPARK_LOG_DIR="${SANDBOX_HOME:-.sandbox}/work/spark-logs" SPARK_PID_DIR="${SANDBOX_HOME:-.sandbox}/work/spark-pids"
mkdir -p "$SPARK_LOG_DIR" "$SPARK_PID_DIR"
case "${1:-start}" in
  start)
    nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 7077 --webui-port 8080 \
      > "$SPARK_LOG_DIR/master.log" 2>&1 & echo $! > "$SPARK_PID_DIR/master.pid"
    sleep 3
    nohup "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --webui-port 8081 spark://127.0.0.1:7077 \
      > "$SPARK_LOG_DIR/worker.log" 2>&1 & echo $! > "$SPARK_PID_DIR/worker.pid"
    echo "spark://127.0.0.1:7077" ;;
  stop)
    for p in worker master; do [ -f "$SPARK_PID_DIR/$p.pid" ] && kill "$(cat "$SPARK_PID_DIR/$p.pid")" 2>/dev/null || true; done ;;
esac
