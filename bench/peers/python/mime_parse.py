#!/usr/bin/env python3
"""The MIME-parse peer: Python's email package reading a directory of .eml files the way a mail
ingester does, for a number of passes and/or a time bound. Standard library only.

    mime_parse.py [--repeat N] [--seconds S] DIR

Per message: email.message_from_bytes(raw, policy=email.policy.default); From/To/Cc parsed to
addresses, Subject/Message-ID/In-Reply-To/References/Date read; every part walked; text/plain and
text/html bodies decoded to str with get_content() (falling back to UTF-8 with replacement for
charsets Python does not know); every other leaf part (attachments, inline images, calendar
parts...) decoded to bytes, its filename and decoded size kept. Forwarded message/rfc822 parts
are walked into, as Python's walk() does.

Files are read into memory before the clock starts. Passes over the sorted files repeat until
N passes are done (--repeat) or S seconds have passed (--seconds, checked after every message),
whichever comes first; with neither, --seconds 5. Prints one line of JSON:
{"messages", "bytes", "seconds", "per_second", "mib_per_second", "passes", "errors"}
("errors": parts whose decoding raised and were counted raw; the mail itself still counts).
"""
import argparse
import email
import email.policy
import json
import os
import sys
import time

ADDRESS_HEADERS = ("From", "To", "Cc")
OTHER_HEADERS = ("Subject", "Message-ID", "In-Reply-To", "References", "Date")


def ingest(raw):
    """What an ingester takes from one mail: (headers, texts, attachments, errors)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    errors = 0
    headers = {}
    for name in ADDRESS_HEADERS:
        try:
            value = msg.get(name)
            headers[name] = [a.addr_spec for a in value.addresses] if value is not None else []
        except Exception:
            errors += 1
    for name in OTHER_HEADERS:
        try:
            value = msg.get(name)
            headers[name] = str(value) if value is not None else None
        except Exception:
            errors += 1
    texts, attachments = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            ctype = part.get_content_type()
            filename = part.get_filename()
            if ctype in ("text/plain", "text/html") and not filename and part.get_content_disposition() != "attachment":
                try:
                    texts.append(part.get_content())
                except (LookupError, UnicodeError):
                    texts.append((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
            else:
                data = part.get_payload(decode=True)
                attachments.append((filename, len(data) if data is not None else 0))
        except Exception:
            # A part Python cannot decode at all: kept raw, as an ingester must.
            errors += 1
            attachments.append((None, len(str(part.get_payload()))))
    return headers, texts, attachments, errors


def main(argv):
    ap = argparse.ArgumentParser(description="Python email parse rate over a directory of .eml files")
    ap.add_argument("dir")
    ap.add_argument("--repeat", type=int, default=None, help="passes over the directory (default: until --seconds)")
    ap.add_argument("--seconds", type=float, default=None, help="time bound (default 5 when --repeat is not given)")
    a = ap.parse_args(argv[1:])
    seconds = a.seconds if a.seconds is not None else (None if a.repeat is not None else 5.0)
    names = sorted(f for f in os.listdir(a.dir) if f.endswith(".eml"))
    if not names:
        sys.exit(f"no .eml files in {a.dir}")
    mails = []
    for f in names:
        with open(os.path.join(a.dir, f), "rb") as fh:
            mails.append(fh.read())

    messages = size = passes = errors = 0
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else None
    done = False
    while not done and (a.repeat is None or passes < a.repeat):
        for raw in mails:
            errors += ingest(raw)[3]
            messages += 1
            size += len(raw)
            if deadline is not None and time.perf_counter() >= deadline:
                done = True
                break
        else:
            passes += 1
    elapsed = time.perf_counter() - started
    print(json.dumps({"messages": messages, "bytes": size, "seconds": round(elapsed, 4),
                      "per_second": round(messages / elapsed, 2),
                      "mib_per_second": round(size / 1048576 / elapsed, 2), "passes": passes, "errors": errors}))


if __name__ == "__main__":
    main(sys.argv)
