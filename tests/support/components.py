"""A valid AWSTOE patch component document, shared by the CLI, unit and end-to-end tests."""

OPENSSL_PATCH = """\
name: openssl-update
description: Update openssl
schemaVersion: 1.0
phases:
  - name: build
    steps:
      - name: UpdateOpenssl
        action: ExecuteBash
        inputs:
          commands: ["dnf -y update openssl"]
      - name: RebootAfter
        action: Reboot
  - name: validate
    steps:
      - name: Check
        action: ExecuteBash
        inputs:
          commands: ["openssl version"]
"""
