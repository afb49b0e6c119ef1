"""The inputs of the callback steps: one model per kind of awaited resource, chosen by `kind`.

`resource` names the resource in the token table (and for the status check); `await` also carries the
task token, which must reach no log or error message.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from lambdas.steps.common import NonEmptyStr, StepInput, StrictModel


class _Token(StrictModel):
    task_token: NonEmptyStr
    execution_name: NonEmptyStr


class ImageWait(StepInput):
    kind: Literal["image"]
    image_arn: NonEmptyStr

    @property
    def resource(self) -> str:
        return self.image_arn


class AmiWait(StepInput):
    kind: Literal["ami"]
    image_id: NonEmptyStr

    @property
    def resource(self) -> str:
        return self.image_id


class CommandWait(StepInput):
    kind: Literal["command"]
    command_id: NonEmptyStr
    instance_id: NonEmptyStr

    @property
    def resource(self) -> str:
        return f"{self.command_id}/{self.instance_id}"


class ScanWait(StepInput):
    kind: Literal["scan"]
    instance_id: NonEmptyStr

    @property
    def resource(self) -> str:
        return self.instance_id


class AwaitImage(ImageWait, _Token):
    pass


class AwaitAmi(AmiWait, _Token):
    pass


class AwaitCommand(CommandWait, _Token):
    pass


class AwaitScan(ScanWait, _Token):
    pass


CheckInput = Annotated[ImageWait | AmiWait | CommandWait | ScanWait, Field(discriminator="kind")]
AwaitInput = Annotated[AwaitImage | AwaitAmi | AwaitCommand | AwaitScan, Field(discriminator="kind")]
