"""Which cache directories symcost trusts, and making new ones it can trust.

The evaluator cache holds code that symcost executes, so (like ssh's
StrictModes and git's safe.directory) it trusts only folders that belong to
the user running symcost and that nobody else can write to: the root (judged
where a symlink points), its two-character folders and the entries. It creates
them 0700 whatever the umask. A folder that fails the check is left alone (it
may be someone else's) and the cache is off for the rest of the process, with
one warning line on stderr that says what to do.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600

_refused: set[Path] = set()  # roots this process no longer uses, each warned about once


def refused(root: Path) -> bool:
    return root in _refused


def refuse(root: Path, path: Path, problem: str) -> None:
    """Stop using ``root`` for this process, saying once on stderr why and how to fix it."""
    if root in _refused:
        return
    _refused.add(root)
    print(
        f"warning: evaluator cache off: {path} {problem}; fix it (it must be yours, e.g. chmod 700, or delete it) "
        f"or set SYMCOST_CACHE_DIR to a private folder",
        file=sys.stderr,
    )


def open_root(root: Path) -> bool:
    """Whether the cache root can be used: created 0700 when absent, else checked (warning once if not)."""
    if root in _refused:
        return False
    try:
        _make_private(root)
        problem = _problem(root, stat.S_ISDIR)
    except OSError as error:
        problem = f"cannot be used ({error.strerror or error})"
    if problem:
        refuse(root, root, problem)
    return not problem


def trusted_folders(root: Path, folders: Iterable[Path], *, create: bool) -> bool:
    """Whether every folder below ``root`` exists (created 0700 when ``create``) and is trusted.

    A missing folder is just False; one someone else could write to refuses ``root``.
    """
    if root in _refused:
        return False
    try:
        for folder in folders:
            if create:
                _make_private(folder)
            problem = _problem(folder, stat.S_ISDIR)
            if problem:
                refuse(root, folder, problem)
                return False
    except FileNotFoundError:
        return False
    except OSError as error:
        refuse(root, root, f"cannot be used ({error.strerror or error})")
        return False
    return True


def trusted_file(root: Path, path: Path) -> bool:
    """Whether a file the cache relies on (its index) is a regular file that only its owner, the user, can write."""
    try:
        problem = _problem(path, stat.S_ISREG)
    except FileNotFoundError:
        return True  # not written yet
    except OSError as error:
        problem = f"cannot be read ({error.strerror or error})"
    if problem:
        refuse(root, path, problem)
    return not problem


def _problem(path: Path, is_kind) -> str | None:
    """What makes ``path`` untrustworthy (None: it is the user's own and only they can write to it)."""
    status = os.stat(path)  # follows symlinks: judged where it points
    if not is_kind(status.st_mode):
        return "is not a " + ("folder" if is_kind is stat.S_ISDIR else "regular file")
    if status.st_uid != os.geteuid():
        return f"belongs to uid {status.st_uid}, not to you (uid {os.geteuid()})"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"can be written by others (mode {stat.S_IMODE(status.st_mode):o})"
    return None


def _make_private(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each 0700 whatever the umask (existing ones are left as they are)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, PRIVATE_FOLDER)
        except FileExistsError:
            continue  # another process made it first; the caller checks it
        os.chmod(path, PRIVATE_FOLDER)  # mkdir's mode went through the umask
