"""One helper for the table-driven bad-input suites (tests/test_bad_inputs_*.py).

Every case calls a public function with one bad argument and checks that it raises the
expected exception type with a message that names the argument and says what is allowed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest


@dataclass
class Case:
    """``fn(*args, **kwargs)`` must raise ``exc`` whose message contains every one of ``words``
    (case-insensitive; the argument's name and a word of what is allowed, e.g. ``("noise_rate", "[0, 1]")``)."""
    id: str
    fn: Callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    exc: type | tuple = ValueError
    words: tuple = ()

    def param(self):
        return pytest.param(self, id=self.id)


def check_case(case: Case) -> None:
    with pytest.raises(case.exc) as info:
        case.fn(*case.args, **case.kwargs)
    message = str(info.value)
    missing = [w for w in case.words if w.lower() not in message.lower()]
    assert not missing, f"{case.id}: message {message!r} does not mention {missing}"
    assert not re.search(r"Traceback|EmptyDataError|UnicodeDecodeError|unpack", message), message


def check_cli_refuses(main, argv, words, out, capsys) -> None:
    """``main(argv)`` exits 2 before doing anything: a message (no traceback) naming every one of
    ``words``, and nothing written under ``out``."""
    import pytest

    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    missing = [w for w in words if w.lower() not in err.lower()]
    assert not missing, f"{err!r} does not mention {missing}"
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
