"""logtriage: triage a slow or failing service from the logs it already writes."""

__version__ = "0.1.0"
