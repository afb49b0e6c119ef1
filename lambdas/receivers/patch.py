"""Lambda entry point of the patch receiver queue."""

from lambdas.receivers.common import receiver

lambda_handler = receiver("ami-patch")
