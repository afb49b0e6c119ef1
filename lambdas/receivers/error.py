"""Lambda entry point of the error receiver queue."""

from lambdas.receivers.common import receiver

lambda_handler = receiver("error")
