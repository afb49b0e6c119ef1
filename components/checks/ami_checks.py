#!/usr/bin/env python3
"""AWS Marketplace-style release checks of an AMI's file system.

Usage: ami_checks.py ROOT

ROOT is the image's root directory: "/" on an instance, a fixture tree in tests. It is treated
like a chroot: symlinks resolve inside it, so nothing outside ROOT is ever read.

Output: one line "FAIL <check>: <detail>" per failed check, then, as the last line,
"AMI_CHECKS_JSON {"checks": [{"name", "passed", "detail"}, ...]}". Exit status 0 when every check
passes, 1 when one fails, 2 on bad usage. Details name files, never their content: results travel
to build logs, the lifecycle table and notifications.

Python 3.9 standard library only (the system python of Amazon Linux 2023).
"""

import fnmatch
import json
import os
import re
import shlex
import stat
import sys

SYSTEM_DIRS = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/boot", "/opt")
HISTORY_FILES = (
    ".bash_history",
    ".zsh_history",
    ".python_history",
    ".sh_history",
    ".history",
    ".mysql_history",
    ".psql_history",
    ".node_repl_history",
)
ACCESS_KEY = re.compile(rb"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
AWS_CONFIG_SECRET = re.compile(r"^\s*aws_(?:access_key_id|secret_access_key|session_token)\s*=", re.M)
MAX_SCAN_BYTES = 5 * 1024 * 1024  # credentials live in small files; skip big blobs
MAX_LISTED = 10


def resolve(root, path):
    """Host path of the image path `path`, with every symlink resolved inside `root`."""
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done = []
    hops = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        host = os.path.join(root, *done, part)
        if os.path.islink(host):
            hops += 1
            if hops > 40:  # symlink loop
                return None
            target = os.readlink(host)
            if target.startswith("/"):
                done = []
            todo = [p for p in target.split("/") if p not in ("", ".")] + todo
            continue
        done.append(part)
    return os.path.join(root, *done)


def read_text(root, path, limit=MAX_SCAN_BYTES):
    host = resolve(root, path)
    try:
        if not host or not os.path.isfile(host) or os.path.getsize(host) > limit:
            return None
        with open(host, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:  # unreadable: treated as absent
        return None


def glob_paths(root, pattern):
    """Image paths matching `pattern` (glob(3) rules, sorted), resolved inside `root`."""
    paths = ["/"]
    for part in [p for p in pattern.split("/") if p]:
        if not any(c in part for c in "*?["):
            paths = [os.path.join(p, part) for p in paths]
            continue
        matched = []
        for p in paths:
            host = resolve(root, p)
            if host and os.path.isdir(host):
                names = [n for n in os.listdir(host) if fnmatch.fnmatchcase(n, part)]
                matched += [os.path.join(p, n) for n in sorted(names) if part.startswith(".") or n[0] != "."]
        paths = matched
    return [p for p in paths if os.path.exists(resolve(root, p) or "")]


def has_content(text, ignored=("#",)):
    """True when a line is neither blank nor starts with one of the `ignored` prefixes."""
    return any(line.strip() and not line.lstrip().startswith(ignored) for line in text.splitlines())


def sshd_directives(root):
    """sshd_config directives as (keyword, args, in_match, file), in the order sshd reads them.

    Include is expanded in place (relative paths are under /etc/ssh); a Match block lasts until
    the next Match or the end of its file. Returns None when there is no sshd_config.
    """
    out = []

    def load(path, in_match, depth):
        text = read_text(root, path)
        if text is None:
            return False
        for line in text.splitlines():
            m = re.match(r"\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*)$", line)
            if not m or line.lstrip().startswith("#"):
                continue
            key, rest = m.group(1).lower(), m.group(2).strip()
            try:
                args = shlex.split(rest)
            except ValueError:
                args = rest.split()
            if key == "match":
                in_match = True
            elif key == "include" and depth < 16:
                for pattern in args:
                    for path_ in glob_paths(root, pattern if pattern.startswith("/") else "/etc/ssh/" + pattern):
                        load(path_, in_match, depth + 1)
            elif args:
                out.append((key, args, in_match, path))
        return True

    return out if load("/etc/ssh/sshd_config", False, 0) else None


def first_global(directives, key, default):
    """sshd keeps the first value it reads for a keyword."""
    for k, args, in_match, path in directives:
        if k == key and not in_match:
            return args[0].lower(), path
    return default, "sshd default"


def check_sshd_option(directives, keyword, wanted, default):
    """`keyword` must be `wanted` globally and in every Match block."""
    if directives is None:
        return False, "no /etc/ssh/sshd_config"
    key = keyword.lower()
    value, source = first_global(directives, key, default)
    problems = [] if value == wanted else [f"{keyword} {value} ({source})"]
    problems += [
        f"{keyword} {args[0]} in a Match block ({path})"
        for k, args, in_match, path in directives
        if k == key and in_match and args[0].lower() != wanted
    ]
    return (False, "; ".join(problems)) if problems else (True, f"{keyword} {value} ({source})")


def check_ssh_port(directives):
    if directives is None:
        return False, "no /etc/ssh/sshd_config"
    ports = []
    for key, args, _, path in directives:
        if key == "port":
            ports += [(a, path) for a in args]
        elif key == "listenaddress":
            m = re.match(r"^(?:\[[^\]]+\]|[^:]+):(\d+)$", args[0])  # [v6]:port, v4:port, host:port
            if m:
                ports.append((m.group(1), path))
    wrong = ["port {} ({})".format(*p) for p in ports if p[0] != "22"]
    return (False, "; ".join(wrong)) if wrong else (True, "port 22")


def homes(root):
    """Home directories of root and of login users: /root, /home/*, and passwd entries."""
    found = {"/root"} | set(glob_paths(root, "/home/*"))
    for line in (read_text(root, "/etc/passwd") or "").splitlines():
        fields = line.split(":")
        if len(fields) > 5 and fields[2].isdigit() and (fields[2] == "0" or int(fields[2]) >= 1000):
            found.add(fields[5])
    return sorted(h for h in found if h not in ("", "/") and os.path.isdir(resolve(root, h) or ""))


def check_authorized_keys(root):
    bad = []
    for home in homes(root):
        for name in ("authorized_keys", "authorized_keys2"):
            text = read_text(root, f"{home}/.ssh/{name}")
            if text is not None and has_content(text):
                bad.append(f"{home}/.ssh/{name}")
    return listing(bad, "authorized_keys with keys", "no authorized_keys")


def check_shell_history(root):
    bad = []
    for home in homes(root):
        for name in HISTORY_FILES:
            host = resolve(root, f"{home}/{name}")
            if host and os.path.isfile(host) and os.path.getsize(host) > 0:
                bad.append(f"{home}/{name}")
    return listing(bad, "shell history", "no shell history")


def docker_has_auths(text):
    try:
        auths = json.loads(text).get("auths") or {}
        return any(isinstance(v, dict) and (v.get("auth") or v.get("identitytoken")) for v in auths.values())
    except (ValueError, AttributeError):
        return re.search(r'"(?:auth|identitytoken)"\s*:\s*"[^"]+"', text) is not None


def contains_access_key(host):
    try:
        st = os.lstat(host)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SCAN_BYTES:
            return False
        with open(host, "rb") as f:
            # AWS documentation's placeholder keys (AKIAIOSFODNN7EXAMPLE, ...) are not secrets.
            return any(not key.endswith(b"EXAMPLE") for key in ACCESS_KEY.findall(f.read()))
    except OSError:  # vanished or unreadable: nothing to report
        return False


def check_cloud_credentials(root):
    bad = set()
    for home in homes(root):
        creds = read_text(root, home + "/.aws/credentials")
        if creds is not None and has_content(creds, ("#", ";", "[")):
            bad.add(home + "/.aws/credentials")
        config = read_text(root, home + "/.aws/config")
        if config is not None and AWS_CONFIG_SECRET.search(config):
            bad.add(home + "/.aws/config")
        docker = read_text(root, home + "/.docker/config.json")
        if docker is not None and docker_has_auths(docker):
            bad.add(home + "/.docker/config.json")
    for top in ("/root", "/home"):
        host_top = resolve(root, top)
        if not host_top or not os.path.isdir(host_top):
            continue
        for dirpath, _, files in os.walk(host_top):  # never follows symlinks
            for name in files:
                host = os.path.join(dirpath, name)
                if contains_access_key(host):
                    bad.add("/" + os.path.relpath(host, root))
    return listing(sorted(bad), "credentials", "no cloud credentials")


def check_world_writable(root):
    bad = []
    for top in SYSTEM_DIRS:
        host_top = os.path.join(root, top.lstrip("/"))
        if os.path.islink(host_top) or not os.path.isdir(host_top):
            continue  # /bin -> usr/bin on usr-merged systems: /usr covers it
        for dirpath, dirs, files in os.walk(host_top):
            for name in dirs + files:
                host = os.path.join(dirpath, name)
                try:
                    mode = os.lstat(host).st_mode
                except OSError:
                    continue
                if stat.S_ISLNK(mode) or not mode & stat.S_IWOTH:
                    continue
                if stat.S_ISDIR(mode) and mode & stat.S_ISVTX:
                    continue  # sticky directories (tmp-like) are world-writable by design
                bad.append("/" + os.path.relpath(host, root))
    return listing(sorted(bad), "world-writable", "no world-writable files in system paths")


def listing(paths, what, ok):
    if not paths:
        return True, ok
    shown = ", ".join(paths[:MAX_LISTED])
    more = f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else ""
    return False, f"{what}: {shown}{more}"


def run_checks(root):
    directives = sshd_directives(root)
    checks = [
        (
            "ssh_root_login_disabled",
            lambda: check_sshd_option(directives, "PermitRootLogin", "no", "prohibit-password"),
        ),
        # OpenSSH's compiled-in default is "yes": an absent directive means passwords are accepted.
        ("ssh_password_auth_disabled", lambda: check_sshd_option(directives, "PasswordAuthentication", "no", "yes")),
        ("ssh_port_22", lambda: check_ssh_port(directives)),
        ("no_authorized_keys", lambda: check_authorized_keys(root)),
        ("no_shell_history", lambda: check_shell_history(root)),
        ("no_cloud_credentials", lambda: check_cloud_credentials(root)),
        ("no_world_writable_system_files", lambda: check_world_writable(root)),
    ]
    results = []
    for name, check in checks:
        try:
            results.append((name, check()))
        except Exception as error:  # a broken check fails alone; the others still report
            results.append((name, (False, f"the check could not run: {type(error).__name__}: {error}")))
    return results


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print("usage: ami_checks.py ROOT_DIRECTORY", file=sys.stderr)
        return 2
    results = run_checks(os.path.abspath(argv[1]))
    for name, (passed, detail) in results:
        if not passed:
            print(f"FAIL {name}: {detail}")
    summary = [{"name": n, "passed": p, "detail": d} for n, (p, d) in results]
    print("AMI_CHECKS_JSON " + json.dumps({"checks": summary}))
    return 0 if all(p for _, (p, _) in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
