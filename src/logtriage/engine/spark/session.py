"""Start (or reach) the SparkSession of a run, after checking pyspark and Java are there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

from logtriage.errors import ConfigError
from logtriage.model.i18n import _

MIN_JAVA = 17


def java_version() -> int | None:
    """The major version of the ``java`` Spark would start (JAVA_HOME first), None if none."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    # Java 8 and older call themselves "1.8".
    return int(match.group(2) or 0) if major == 1 else major


def start_session(master: str, app_name: str = "logtriage") -> Any:
    """A SparkSession on ``master`` (``local[*]``, ``spark://…``, ``yarn``, ``sc://…``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError(
            _("--engine spark needs pyspark: {command}").format(
                command="pip install 'logtriage[spark]'"
            )
        ) from None
    settings = {
        # Analysis SQL is written for DuckDB: a failed cast is NULL there (TRY_CAST / try()).
        "spark.sql.ansi.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        # DuckDB's TIMESTAMP has no zone: times are UTC wall-clock values on both engines.
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        # Small runs: a few partitions per shuffle, not 200 empty ones.
        "spark.sql.shuffle.partitions": os.environ.get("LOGTRIAGE_SPARK_PARTITIONS", "8"),
        "spark.sql.caseSensitive": "false",
        # map_concat of maps sharing a key: the last value wins, as on DuckDB (not an error).
        "spark.sql.mapKeyDedupPolicy": "LAST_WIN",
    }
    if master.startswith("sc://"):
        builder = SparkSession.builder.remote(master)
    else:
        version = java_version()
        if version is None or version < MIN_JAVA:
            found = (
                _("no java found")
                if version is None
                else _("found Java {version}").format(version=version)
            )
            raise ConfigError(
                _("--engine spark needs Java {version} or newer ({found}; set JAVA_HOME)").format(
                    version=MIN_JAVA, found=found
                )
            )
        builder = SparkSession.builder.master(master)
        if master.startswith("local"):
            # A local run listens on loopback only and shows no web UI.
            settings |= {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
            }
    builder = builder.appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not master.startswith("sc://"):
        session.sparkContext.setLogLevel("ERROR")
    return session
