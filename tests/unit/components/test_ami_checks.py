"""components/checks/ami_checks.py, run as a program on fixture root trees: a clean tree passes, and
each defect fails exactly the check that names it."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "components" / "checks" / "ami_checks.py"
CHECKS = [
    "ssh_root_login_disabled",
    "ssh_password_auth_disabled",
    "ssh_port_22",
    "no_authorized_keys",
    "no_shell_history",
    "no_cloud_credentials",
    "no_world_writable_system_files",
]
ACCESS_KEY = "AKIA" + "Q3EGRKXZ7WN4PLTU"  # shaped like a real key id; split so scanners of this repo stay quiet


def write(root: Path, path: str, content: str = "", mode: int | None = None) -> Path:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    if mode is not None:
        target.chmod(mode)
    return target


def link(root: Path, path: str, points_to: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(points_to)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An image that passes every check, with the shapes a real AL2023 tree has."""
    root = tmp_path / "image"
    # Drop-ins are included first, as in AL2023's sshd_config; the main file repeats safe values.
    write(
        root,
        "/etc/ssh/sshd_config",
        "# comment\nInclude /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication no\n"
        "Subsystem sftp /usr/libexec/openssh/sftp-server\n",
    )
    write(root, "/etc/ssh/hardening.conf", "PermitRootLogin no\nPasswordAuthentication no\nPort 22\n")
    link(root, "/etc/ssh/sshd_config.d/00-hardening.conf", "/etc/ssh/hardening.conf")  # absolute, inside the image
    write(root, "/etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication no\n")
    write(
        root,
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nec2-user:x:1000:1000::/home/ec2-user:/bin/bash\n"
        "svc:x:1001:1001::/srv/svc:/sbin/nologin\n",
    )
    write(root, "/etc/shadow", "root:!!:19000::::::\n", mode=0o000)
    write(root, "/home/ec2-user/.ssh/authorized_keys", "")  # cloud-init leaves it empty without a key pair
    write(root, "/home/ec2-user/.bash_history", "")
    write(root, "/home/ec2-user/.aws/config", "[default]\nregion = us-east-1\n")
    write(root, "/root/.bashrc", "alias ll='ls -l'\n")
    write(root, "/root/notes.txt", "the AWS docs key AKIAIOSFODNN7EXAMPLE is a placeholder\n")
    write(root, "/srv/svc/.bash_history", "")
    write(root, "/usr/bin/tool", "#!/bin/sh\n", mode=0o755)
    write(root, "/usr/lib64/libx.so", "", mode=0o644)
    (root / "usr/tmp").mkdir()
    (root / "usr/tmp").chmod(0o1777)  # sticky: world-writable by design
    link(root, "/bin", "usr/bin")  # usr-merged layout: /bin is a symlink
    link(root, "/lib64", "/usr/lib64")
    link(root, "/etc/alternatives/editor", "/usr/bin/tool")  # a symlink's own mode is 0777: not a finding
    (root / "opt").mkdir()
    return root


def run(root: Path) -> tuple[int, list[str], dict[str, dict]]:
    result = subprocess.run([sys.executable, str(SCRIPT), str(root)], capture_output=True, text=True, timeout=60)
    lines = result.stdout.splitlines()
    assert lines and lines[-1].startswith("AMI_CHECKS_JSON "), result.stdout + result.stderr
    summary = json.loads(lines[-1].removeprefix("AMI_CHECKS_JSON "))
    checks = {check["name"]: check for check in summary["checks"]}
    assert list(checks) == CHECKS
    assert all(set(check) == {"name", "passed", "detail"} for check in checks.values())
    return result.returncode, lines[:-1], checks


def failed(root: Path) -> list[str]:
    code, lines, checks = run(root)
    names = [name for name, check in checks.items() if not check["passed"]]
    assert code == (1 if names else 0)
    assert [line.split(":")[0] for line in lines] == [f"FAIL {name}" for name in names]
    return names


def test_a_clean_image_passes_every_check(root: Path) -> None:
    code, lines, checks = run(root)
    assert (code, lines) == (0, [])
    assert (
        checks["ssh_root_login_disabled"]["detail"] == "PermitRootLogin no (/etc/ssh/sshd_config.d/00-hardening.conf)"
    )


def sshd(text: str) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        write(root, "/etc/ssh/sshd_config", text)

    return mutate


def dropin(text: str) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        write(root, "/etc/ssh/sshd_config.d/01-custom.conf", text)

    return mutate


def file(path: str, content: str, mode: int | None = None) -> Callable[[Path], None]:
    return lambda root: write(root, path, content, mode)


def chmod(path: str, mode: int) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        target = root / path.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(mode)

    return mutate


def first_value_wins(root: Path) -> None:
    """The included drop-in is read before the main file's own, later, safe value."""
    write(root, "/etc/ssh/hardening.conf", "PermitRootLogin without-password\n")


def remove_sshd(root: Path) -> None:
    (root / "etc/ssh/sshd_config").unlink()


DEFECTS = {
    "root login allowed": (sshd("PermitRootLogin yes\nPasswordAuthentication no\n"), ["ssh_root_login_disabled"]),
    "root login by key (sshd default)": (sshd("PasswordAuthentication no\n"), ["ssh_root_login_disabled"]),
    "root login: an earlier drop-in wins": (dropin("PermitRootLogin yes\n"), []),  # 00-hardening sorts first
    "root login: the first value read wins": (first_value_wins, ["ssh_root_login_disabled"]),
    "root login in a Match block": (
        sshd("PermitRootLogin no\nPasswordAuthentication no\nMatch Address 10.0.0.0/8\n  PermitRootLogin yes\n"),
        ["ssh_root_login_disabled"],
    ),
    "password authentication on": (
        sshd("PermitRootLogin no\nPasswordAuthentication yes\n"),
        ["ssh_password_auth_disabled"],
    ),
    "password authentication absent (OpenSSH default yes)": (
        sshd("PermitRootLogin no\n"),
        ["ssh_password_auth_disabled"],
    ),
    "password authentication, Keyword=value and any case": (
        sshd("PermitRootLogin no\npasswordauthentication=YES\n"),
        ["ssh_password_auth_disabled"],
    ),
    "ssh on another port": (dropin("Port 2222\n"), ["ssh_port_22"]),
    "ssh on 22 and another port": (
        sshd("Port 22\nPort 2200\nPermitRootLogin no\nPasswordAuthentication no\n"),
        ["ssh_port_22"],
    ),
    "ssh listening on an address with another port": (dropin("ListenAddress 0.0.0.0:2200\n"), ["ssh_port_22"]),
    "no sshd_config": (remove_sshd, ["ssh_root_login_disabled", "ssh_password_auth_disabled", "ssh_port_22"]),
    "root authorized_keys": (
        file("/root/.ssh/authorized_keys", "ssh-ed25519 AAAAC3Nza root@x\n"),
        ["no_authorized_keys"],
    ),
    "user authorized_keys": (
        file("/home/alice/.ssh/authorized_keys", "ssh-rsa AAAAB3 alice\n"),
        ["no_authorized_keys"],
    ),
    "authorized_keys2": (file("/home/ec2-user/.ssh/authorized_keys2", "ssh-rsa AAAAB3 x\n"), ["no_authorized_keys"]),
    "authorized_keys with comments only": (file("/root/.ssh/authorized_keys", "# none\n\n"), []),
    "root bash history": (file("/root/.bash_history", "sudo su\n"), ["no_shell_history"]),
    "user python history": (file("/home/ec2-user/.python_history", "import os\n"), ["no_shell_history"]),
    "zsh history of a user outside /home": (file("/srv/svc/.zsh_history", ": 1:0;ls\n"), ["no_shell_history"]),
    "aws credentials file": (
        file("/root/.aws/credentials", "[default]\naws_access_key_id = x\naws_secret_access_key = y\n"),
        ["no_cloud_credentials"],
    ),
    "aws credentials file with sections only": (file("/root/.aws/credentials", "[default]\n; empty\n"), []),
    "aws config with a secret": (
        file("/home/ec2-user/.aws/config", "[default]\naws_secret_access_key = y\n"),
        ["no_cloud_credentials"],
    ),
    "docker registry auth": (
        file("/home/ec2-user/.docker/config.json", '{"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNz"}}}'),
        ["no_cloud_credentials"],
    ),
    "docker config without auths": (file("/home/ec2-user/.docker/config.json", '{"auths": {}}'), []),
    "access key id in a file": (
        file("/home/ec2-user/app/settings.py", f"KEY = '{ACCESS_KEY}'\n"),
        ["no_cloud_credentials"],
    ),
    "world-writable file in /etc": (file("/etc/app.conf", "x\n", 0o666), ["no_world_writable_system_files"]),
    "world-writable directory in /usr": (chmod("/usr/share/app", 0o777), ["no_world_writable_system_files"]),
    "world-writable file in /opt": (file("/opt/vendor/run.sh", "x\n", 0o757), ["no_world_writable_system_files"]),
    "world-writable sticky directory": (chmod("/opt/spool", 0o1777), []),
    "world-writable file outside system paths": (file("/var/tmp/x", "x\n", 0o666), []),
}


@pytest.mark.parametrize(("mutate", "expected"), DEFECTS.values(), ids=DEFECTS.keys())
def test_each_defect_fails_exactly_its_check(root: Path, mutate: Callable[[Path], None], expected: list[str]) -> None:
    mutate(root)
    assert failed(root) == expected


def test_findings_name_files_never_secrets(root: Path) -> None:
    write(root, "/home/ec2-user/app/settings.py", f"KEY = '{ACCESS_KEY}'\n")
    code, lines, checks = run(root)
    assert checks["no_cloud_credentials"]["detail"] == "credentials: /home/ec2-user/app/settings.py"
    assert ACCESS_KEY not in "\n".join(lines) + json.dumps(checks)


def test_long_findings_are_truncated(root: Path) -> None:
    for index in range(15):
        write(root, f"/etc/conf.d/file{index:02}", "x\n", 0o666)
    _, _, checks = run(root)
    assert checks["no_world_writable_system_files"]["detail"].endswith(" and 5 more")


def test_symlinks_never_lead_out_of_the_root(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, "/keys", "ssh-ed25519 AAAAC3Nza stolen\n")
    write(outside, "/sshd_config", "PermitRootLogin yes\n")
    link(root, "/root/.ssh/authorized_keys", str(outside / "keys"))  # absolute: resolves inside the image
    link(root, "/home/ec2-user/.ssh/authorized_keys", "../../../../outside/keys")  # '..' stops at the root
    link(root, "/etc/ssh/sshd_config.d/10-outside.conf", "../../../../outside/sshd_config")
    link(root, "/usr/share/outside", str(outside))  # world-writable targets are never walked
    outside.chmod(0o777)
    # On the host these links do reach the outside files: the script must not follow them there.
    assert (root / "home/ec2-user/.ssh/authorized_keys").resolve() == outside / "keys"
    assert (root / "etc/ssh/sshd_config.d/10-outside.conf").resolve() == outside / "sshd_config"
    assert failed(root) == []


def test_symlink_loops_do_not_hang(root: Path) -> None:
    link(root, "/root/.ssh", "/root/.ssh")
    link(root, "/etc/ssh/sshd_config.d/99-loop.conf", "99-loop.conf")
    assert failed(root) == []


@pytest.mark.parametrize("argv", [[], ["/nonexistent/root"], ["a", "b"]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "usage" in result.stderr


def test_runs_on_the_python_of_amazon_linux_2023() -> None:
    """AL2023's system python is 3.9: no newer syntax, and no Image Builder '{{ }}' variable syntax."""
    source = SCRIPT.read_text()
    ast.parse(source, feature_version=(3, 9))
    assert "{{" not in source


def test_a_check_that_crashes_fails_alone(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("ami_checks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def broken(_: str) -> tuple[bool, str]:
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "check_shell_history", broken)
    results = dict(module.run_checks(str(root)))
    assert results.pop("no_shell_history") == (False, "the check could not run: RuntimeError: boom")
    assert all(passed for passed, _ in results.values()) and len(results) == len(CHECKS) - 1
