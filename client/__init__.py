"""AMI selection client (`ami_selection.py`, `get_ami.sh`) and what it shares with the operator CLI
(`deployment.py`: stack tag slugs, git defaults, local-cloud profile, deployed stack outputs)."""
