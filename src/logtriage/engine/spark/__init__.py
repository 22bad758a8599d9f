"""The Apache Spark engine: the same analysis SQL, translated, on a SparkSession."""
