"""SQS receivers of workflow outcomes (common.py); one entry point per queue."""

# The metric a refused message counts in; the alarm of stacks/core/alarms.py watches it.
REFUSED_METRIC = "UntrustedMessageRefused"
