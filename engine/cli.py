"""The `tiny-agent-trainer` command line.

Each command is registered by an ``_add_<name>`` function that declares its flags and points
``func`` at a ``_cmd_<name>`` handler. Handlers return the process exit code: 0 success, 1 a
negative verdict (an invalid shader, a failed check), 2 usage or I/O errors. Errors the user can
act on are raised as :class:`CliError` and printed without a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from engine import __version__

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error with a message the user can act on; printed as ``error: ...``, exit code 2."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiny-agent-trainer",
        description="WGSL language server, validator and shader generator.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = []


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="run the WGSL language server (stdio by default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead of stdio")
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    tcp: tuple[str, int] | None = None
    if args.tcp:
        host, _, port = str(args.tcp).rpartition(":")
        if not host or not port.isdigit():
            raise CliError(f"--tcp expects HOST:PORT (e.g. 127.0.0.1:2087), got {args.tcp!r}")
        tcp = (host, int(port))
    if not args.verbose:
        logging.getLogger("server").setLevel(logging.INFO)
    from server.server import main as serve

    serve(tcp)
    return EXIT_OK


_COMMANDS.append(_add_serve)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    func: Handler | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
