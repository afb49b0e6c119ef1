"""Lambda entry point of the creation receiver queue."""

from lambdas.receivers.common import receiver

lambda_handler = receiver("ami-creation")
