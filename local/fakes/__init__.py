"""Fakes for the AWS APIs moto 5.2.5 lacks (or accepts where AWS refuses), served by the local AWS
endpoint (local/endpoint/) to every client: a call to an operation a fake serves is answered by the
fake; every other call goes on to moto. Handlers therefore keep using plain boto3, locally and on AWS.
Each fake has switches to inject the failures the workflows must survive (`fail_next_build`, ...).
"""

from local.fakes.hooks import FakeAws, FakeError

__all__ = ["FakeAws", "FakeError"]
