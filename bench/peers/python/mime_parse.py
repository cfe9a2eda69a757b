#!/usr/bin/env python3
"""The MIME-parse peer: Python's email package reading a directory of .eml files the way a mail
ingester does (headers, every text and HTML body decoded to str, attachments decoded), over and
over for a fixed time. Prints {"messages", "bytes", "seconds", "per_second"} as JSON.

    mime_parse.py [--seconds N] DIR
"""
import email
import email.policy
import json
import os
import sys
import time


def read(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for name in ("From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date"):
        try:
            str(msg.get(name, ""))
        except Exception:
            pass
    texts, attachments = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        try:
            if part.get_content_disposition() == "attachment" or part.get_filename():
                data = part.get_payload(decode=True) or b""
                attachments.append((part.get_filename(), len(data)))
            elif part.get_content_maintype() == "text":
                texts.append(part.get_content())
            else:
                data = part.get_payload(decode=True) or b""
                attachments.append((part.get_filename(), len(data)))
        except Exception:
            # A part Python cannot decode: keep its raw payload, as an ingester must.
            attachments.append((None, len(str(part.get_payload()))))
    return texts, attachments


def main(argv):
    seconds = 5.0
    if "--seconds" in argv:
        i = argv.index("--seconds")
        seconds = float(argv[i + 1])
        del argv[i:i + 2]
    folder = argv[1]
    mails = [open(os.path.join(folder, f), "rb").read() for f in sorted(os.listdir(folder)) if f.endswith(".eml")]
    messages = size = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for raw in mails:
            read(raw)
            messages += 1
            size += len(raw)
    elapsed = time.perf_counter() - started
    print(json.dumps({"messages": messages, "bytes": size, "seconds": elapsed, "per_second": messages / elapsed}))


if __name__ == "__main__":
    main(sys.argv)
