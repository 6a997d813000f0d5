#!/usr/bin/env python3
"""Shows each new e-mail that `dovira serve --mail-dir DIR` writes, readably, as it arrives.

Usage: mail-follow.py DIR

Prints To, Subject, the plain-text part and the names of any attachments of every file
DIR/*.eml that appears after the start (files already there are not shown again). Hidden files
are the server's temporary files and are never read. Stops on SIGINT or SIGTERM, and by itself
when the process that started it is gone. Python's standard library only.
"""
import email
import email.policy
import os
import signal
import sys
import time

POLL_SECONDS = 0.3
RULE = "─" * 72


def show(path):
    with open(path, "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    attachments = [part.get_filename() for part in message.iter_attachments()]
    lines = [
        RULE,
        f"E-mail  {os.path.basename(path)}",
        f"To:      {message['To']}",
        f"Subject: {message['Subject']}",
        "",
        text.rstrip("\n"),
    ]
    if attachments:
        lines += ["", "Attached: " + ", ".join(a or "(unnamed)" for a in attachments)]
    lines.append(RULE)
    print("\n".join(lines), flush=True)


def eml_files(directory):
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(".eml") and not n.startswith("."))


def main():
    if len(sys.argv) != 2:
        print("usage: mail-follow.py DIR", file=sys.stderr)
        return 2
    directory = sys.argv[1]
    stop = lambda *_: sys.exit(0)  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, stop)
    parent = os.getppid()
    seen = set(eml_files(directory))
    while os.getppid() == parent:
        for name in eml_files(directory):
            if name in seen:
                continue
            seen.add(name)
            try:
                show(os.path.join(directory, name))
            except (OSError, ValueError, LookupError) as error:
                print(f"{RULE}\nE-mail  {name}: cannot be shown ({error})\n{RULE}", flush=True)
        time.sleep(POLL_SECONDS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
