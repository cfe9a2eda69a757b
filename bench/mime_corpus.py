#!/usr/bin/env python3
"""Builds the MIME parse benchmark mix: N mails (default 2,000) with the size distribution of a
support inbox, written as DIR/00000-reply.eml ... (deterministic: same bytes on every run).

    python3 bench/mime_corpus.py DIR [--count N] [--seed S]

The mix (shares of N):
  62%  replies, multipart/alternative text + HTML, 2-20 KB (quoted history makes them grow)
  16%  new requests, plain text, 1-6 KB, in UTF-8 (QP or 8bit), ISO-8859-1, windows-1252, Shift_JIS,
       GB2312, KOI8-R or windows-1256
   8%  HTML notifications and newsletters, 20-80 KB (Precedence: bulk / List-Id)
   6%  mails with 1-3 attachments of 100 KB-1 MB in all (PDF, PNG, ZIP-like bytes), log-uniform sizes
   5%  mails with a small inline image (multipart/related, 10-60 KB)
   3%  auto-replies and DSN bounces
Then, one copy each, the shapes of tests/fixtures/mime (broken headers, nested parts, charsets...)
if --with-fixtures is given. Prints a one-line summary (files, total bytes, size quantiles).

The message builders are tests/fixtures/mime/make_corpus.py's.
"""
import argparse
import importlib.util
import math
import os
import random
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ left beside the corpus
_spec = importlib.util.spec_from_file_location("make_corpus", os.path.join(ROOT, "tests/fixtures/mime/make_corpus.py"))
mc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mc)

FIRST = ["Ana", "Bob", "Chloé", "David", "Elif", "Farah", "Greg", "Hana", "Ivan", "Jun", "Kim", "Lena", "Maria",
         "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomás", "Uma", "Victor", "Wei", "Yusuf", "Zoë"]
LAST = ["Lima", "Tanaka", "Lefèvre", "Cohen", "Yılmaz", "Haddad", "House", "Sato", "Petrov", "Park", "Novak",
        "Fischer", "Garcia", "Quinn", "Ali", "Shah", "Baker", "Rossi", "Berg", "Ortiz", "Iyer", "Duval", "Chen"]
TOPICS = ["order {n}", "invoice {n}", "my subscription", "login problems", "refund for order {n}",
          "delivery to the pickup point", "the router setup", "a damaged parcel", "the new price plan",
          "two-factor authentication", "account {n}", "the mobile app"]
SENTENCES = [
    "I placed order {n} last week and it still has not arrived.",
    "The tracking page has shown the same status for five days now.",
    "Could you please check what is going on with {topic}?",
    "I was charged twice and would like one of the payments refunded.",
    "The app logs me out every time I switch to another window.",
    "We tried the steps from your last mail but the problem is still there.",
    "Our finance team needs the invoice with the new company address.",
    "Is it possible to change the delivery date to Friday?",
    "Thanks a lot for the quick answer, that solved most of it.",
    "The replacement arrived but the power adapter was missing from the box.",
    "Can you tell me which plan includes priority support?",
    "I attached a screenshot of the error message.",
    "Please cancel the subscription at the end of this month.",
    "My colleague in the Berlin office has the same problem since Monday.",
    "The reset link in your email expires before I can open it.",
]
AGENT = [
    "Hello {name},", "thanks for getting in touch.", "I have checked {topic} and forwarded it to our team.",
    "Could you send us a photo of the label on the parcel?", "We have issued a refund; it takes 3-5 working days.",
    "Please try logging out and in again, then clear the app cache.", "Best regards,", "Acme Support",
]
LOCALE_TEXTS = {
    "iso-8859-1": "Guten Tag, meine Bestellung {n} ist noch nicht angekommen. Könnten Sie bitte prüfen, wo das Paket ist? Grüße",
    "windows-1252": "Bonjour, j’ai reçu la facture {n} – le montant de 49,90 € est incorrect. Merci d’avance.",
    "shift_jis": "お世話になっております。注文番号{n}の商品がまだ届いておりません。確認していただけますでしょうか。",
    "gb2312": "您好：我的订单{n}到现在还没有收到，请帮我查询一下物流信息，谢谢！",
    "koi8-r": "Здравствуйте! Мой заказ {n} до сих пор не пришёл. Подскажите, пожалуйста, где посылка?",
    "windows-1256": "مرحباً، لم يصل طلبي رقم {n} حتى الآن. هل يمكنكم التحقق من حالة الشحنة؟ شكراً لكم",
    "utf-8": "Dzień dobry, zamówienie {n} dotarło uszkodzone – proszę o zwrot pieniędzy. Pozdrawiam 🙂",
}


def person(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = f"{first}.{last}".lower().encode("ascii", "ignore").decode().replace(" ", "")
    return f"{first} {last}", f"{local}{rng.randint(1, 999)}@customer{rng.randint(1, 40)}.test"


def paragraph(rng, topic, n, sentences=3):
    return " ".join(rng.choice(SENTENCES).format(n=n, topic=topic) for _ in range(sentences))


def wrap(text, width=72):
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(out + [line])


def loguniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def envelope(i, rng, name, email, subject, extra=()):
    return mc.envelope(f"bench-{i}", mc.addr(name, email), mc.ew(subject) if not subject.isascii() else subject,
                       msgid=f"<bench-{i:05d}.{mc.token(f'b{i}', 10)}@{email.split('@')[1]}>", extra=extra)


def reply(i, rng):
    """A reply in a thread: new words, then the history quoted (Gmail, Outlook or Apple style)."""
    name, email = person(rng)
    n, topic = rng.randint(1000, 99999), rng.choice(TOPICS).format(n=rng.randint(1000, 99999))
    target = loguniform(rng, 2_000, 20_000)
    style = rng.choice(["gmail", "outlook", "apple"])
    new = wrap(paragraph(rng, topic, n, rng.randint(1, 4))) + f"\n\n{name.split()[0]}\n"
    text, html = new, "<div dir=\"ltr\">" + new.replace("\n", "<br>") + "</div>"
    depth = 0
    while len(text) + len(html) < target:
        depth += 1
        agent = "\n".join(line.format(name=name.split()[0], topic=topic) for line in AGENT)
        if style == "outlook":
            text += (f"\n________________________________\nFrom: Acme Support <support@acme.test>\n"
                     f"Sent: Monday, November {depth + 1}, 2026 10:0{depth % 10} AM\nTo: {name} <{email}>\n"
                     f"Subject: RE: {topic}\n\n{agent}\n\n{wrap(paragraph(rng, topic, n, 4))}\n")
            html += (f"<div style=\"border:none;border-top:solid #E1E1E1 1.0pt\"><p class=MsoNormal><b>From:</b> Acme "
                     f"Support<br><b>Sent:</b> Monday, November {depth + 1}, 2026</p></div><p class=MsoNormal>"
                     + agent.replace("\n", "<br>") + "</p>")
        else:
            prefix = "> " * depth
            quoted = "\n".join(prefix + line for line in (agent + "\n\n" + wrap(paragraph(rng, topic, n, 4))).split("\n"))
            attribution = (f"On Mon, {depth + 1} Nov 2026 at 10:0{depth % 10}, Acme Support <support@acme.test> wrote:"
                           if style == "gmail" else f"> On {depth + 1} Nov 2026, at 10:0{depth % 10}, Acme Support wrote:")
            text += f"\n{attribution}\n{quoted}\n"
            html += (f"<div class=\"gmail_quote\">{attribution}<blockquote style=\"margin:0 0 0 .8ex;border-left:1px "
                     f"solid #ccc;padding-left:1ex\">" + agent.replace("\n", "<br>") + "</blockquote></div>")
    cte = rng.choice(["quoted-printable", "quoted-printable", "base64", "8bit"])
    body = mc.multipart("alternative", [
        mc.leaf("text/plain; charset=UTF-8", text.encode(), cte),
        mc.leaf("text/html; charset=UTF-8", f"<html><body>{html}</body></html>".encode(), cte),
    ], f"000000000000{mc.token(f'alt{i}', 16, '0123456789abcdef')}", preamble="")
    extra = [f"In-Reply-To: <sb-{n}.c{depth}-{mc.token(f'r{i}', 6)}@acme.test>",
             "References: " + " ".join(f"<sb-{n}.c{d}@acme.test>" for d in range(depth + 1))]
    return "reply", mc.message(envelope(i, rng, name, email, f"Re: {topic}", extra), body)


def request(i, rng):
    name, email = person(rng)
    n = rng.randint(1000, 99999)
    charset = rng.choice(list(LOCALE_TEXTS) + ["utf-8"] * 3)
    words = LOCALE_TEXTS[charset].format(n=n) if charset != "utf-8" or rng.random() < 0.3 else \
        wrap(paragraph(rng, rng.choice(TOPICS).format(n=n), n, 4))
    target = loguniform(rng, 1_000, 6_000)
    text = words
    while len(text.encode(charset)) < target:
        text += "\n\n" + wrap(paragraph(rng, "it", n, 3))
    cte = "quoted-printable" if charset == "utf-8" and rng.random() < 0.5 else ("8bit" if charset != "utf-8" else "base64")
    subject = f"Question about order {n}" if rng.random() < 0.7 else mc.ew(f"Frage zu Bestellung {n} – dringend")
    return "request", mc.message(
        mc.envelope(f"bench-{i}", mc.addr(name, email), subject,
                    msgid=f"<bench-{i:05d}.{mc.token(f'q{i}', 10)}@{email.split('@')[1]}>"),
        mc.leaf(f"text/plain; charset={charset}", (text + "\n").encode(charset, "replace"), cte))


def newsletter(i, rng):
    target = loguniform(rng, 20_000, 80_000)
    items, html = 0, ["<html><head><style>td{font:14px Arial} .btn{background:#0a66c2;color:#fff}</style></head><body>"
                      "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\">"]
    while sum(map(len, html)) < target:
        items += 1
        html.append(f"<tr><td style=\"padding:12px\"><h2>Update {items}</h2><p>{paragraph(rng, 'the release', items, 4)}</p>"
                    f"<a class=\"btn\" href=\"https://news.vendor.test/r/{mc.token(f'n{i}/{items}', 24)}\">Read more</a>"
                    f"<img src=\"https://news.vendor.test/img/{items}.png\" width=\"600\" height=\"200\"></td></tr>")
    html.append("</table></body></html>")
    body = mc.leaf("text/html; charset=utf-8", "".join(html).encode(), "quoted-printable")
    env = mc.envelope(f"bench-{i}", "Vendor News <news@news.vendor.test>", f"Product updates #{i}",
                      msgid=f"<bench-{i:05d}@news.vendor.test>",
                      extra=["Precedence: bulk", "List-Id: <updates.news.vendor.test>",
                             "List-Unsubscribe: <https://news.vendor.test/u>"])
    return "newsletter", mc.message(env, body)


def with_attachments(i, rng):
    name, email = person(rng)
    parts = [mc.leaf("text/plain; charset=utf-8", wrap(paragraph(rng, "the files", i, 3)).encode() + b"\n")]
    total, count = loguniform(rng, 100_000, 1_000_000), rng.choice([1, 1, 1, 2, 3])
    for k in range(count):
        size = total // count
        kind = rng.choice(["pdf", "png", "zip"])
        data = {"pdf": mc.pdf(f"Document {i}-{k}"), "png": mc.png(32, 32, k), "zip": b"PK\x03\x04"}[kind]
        data += mc.filler(f"att{i}/{k}", size - len(data))
        mime = {"pdf": "application/pdf", "png": "image/png", "zip": "application/zip"}[kind]
        parts.append(mc.attach(f"file-{i:05d}-{k}.{kind}", mime, data))
    body = mc.multipart("mixed", parts, f"------------{mc.token(f'm{i}', 24, '0123456789ABCDEF')}")
    return "attachments", mc.message(envelope(i, rng, name, email, f"Documents for case {i}"), body)


def inline_image(i, rng):
    name, email = person(rng)
    size = loguniform(rng, 10_000, 60_000)
    image = mc.png(32, 32, i) + mc.filler(f"img{i}", size)
    body = mc.multipart("related", [
        mc.leaf("text/html; charset=utf-8", (f"<p>{paragraph(rng, 'the screen', i, 2)}</p>"
                                             f"<p><img src=\"cid:shot{i}@customer.test\"></p>").encode(), "quoted-printable"),
        mc.attach(f"screenshot-{i}.png", "image/png", image, inline=True, cid=f"shot{i}@customer.test"),
    ], f"rel-{mc.token(f'r{i}', 16)}", params=' type="text/html";', preamble="")
    return "inline-image", mc.message(envelope(i, rng, name, email, "Screenshot of the error"), body)


def automatic(i, rng):
    name, email = person(rng)
    if rng.random() < 0.6:
        env = envelope(i, rng, name, email, "Automatic reply: Re: your request",
                       ["Auto-Submitted: auto-replied", "X-Autoreply: yes"])
        return "auto-reply", mc.message(env, mc.leaf("text/plain; charset=us-ascii",
                                                     b"I am out of the office until Monday with limited access to email.\n"))
    report = mc.multipart("report", [
        mc.leaf("text/plain; charset=us-ascii", f"Your message to {email} could not be delivered.\n".encode()),
        mc.leaf("message/delivery-status", f"Reporting-MTA: dns; mx.customer.test\n\nFinal-Recipient: rfc822; {email}\n"
                                           "Action: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n".encode(), None),
        mc.leaf("text/rfc822-headers", f"From: support@acme.test\nTo: {email}\nMessage-ID: <sb-{i}.c1-x@acme.test>\n".encode(), None),
    ], f"dsn-{mc.token(f'd{i}', 12)}", params=" report-type=delivery-status;")
    env = mc.envelope(f"bench-{i}", "MAILER-DAEMON@mx.customer.test (Mail Delivery System)",
                      "Undelivered Mail Returned to Sender", msgid=f"<bench-{i:05d}@mx.customer.test>",
                      extra=["Auto-Submitted: auto-replied"])
    return "bounce", mc.message(env, report)


MIX = [(0.62, reply), (0.16, request), (0.08, newsletter), (0.06, with_attachments), (0.05, inline_image),
       (0.03, automatic)]


def build(out, count=2000, seed=4821, with_fixtures=False):
    if os.path.realpath(out) == os.path.realpath(os.path.join(ROOT, "tests/fixtures/mime")):
        sys.exit("refusing to write the benchmark mix over the committed corpus")
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(out):
        if f.endswith(".eml"):
            os.remove(os.path.join(out, f))
    # Exact shares (not a random draw per mail), shuffled deterministically.
    makers = []
    for share, maker in MIX:
        makers += [maker] * round(share * count)
    makers = (makers + [reply] * count)[:count]
    random.Random(seed).shuffle(makers)
    sizes = []
    for i, maker in enumerate(makers):
        rng = random.Random(f"{seed}/{i}")
        kind, raw = maker(i, rng)
        raw = mc.finish(raw, "crlf" if rng.random() < 0.85 else "lf")
        with open(os.path.join(out, f"{i:05d}-{kind}.eml"), "wb") as f:
            f.write(raw)
        sizes.append(len(raw))
    if with_fixtures:
        fixtures = os.path.join(ROOT, "tests/fixtures/mime")
        for f in sorted(os.listdir(fixtures)):
            if f.endswith(".eml"):
                shutil.copy(os.path.join(fixtures, f), os.path.join(out, "fixture-" + f))
                sizes.append(os.path.getsize(os.path.join(out, "fixture-" + f)))
    sizes.sort()
    q = lambda p: sizes[min(len(sizes) - 1, int(p * len(sizes)))]
    print(f"{len(sizes)} mails, {sum(sizes) / 1e6:.1f} MB in {out}; size p10 {q(0.1) / 1e3:.1f} KB, "
          f"p50 {q(0.5) / 1e3:.1f} KB, p90 {q(0.9) / 1e3:.1f} KB, p99 {q(0.99) / 1e3:.0f} KB, max {sizes[-1] / 1e3:.0f} KB")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=4821)
    ap.add_argument("--with-fixtures", action="store_true", help="also copy tests/fixtures/mime/*.eml in")
    a = ap.parse_args()
    build(a.dir, a.count, a.seed, a.with_fixtures)
