"""Mail: returns in from mail (.eml, mbox, Maildir, Zimbra .tgz, IMAP), messages out (.eml, SMTP), feedback.

The stages call only what this module exports:
  inbound.read_mail(path)          a mail file or folder -> the attachments it carries (Attachment)
  inbound.is_mail_source(path)     whether collect should read `path` as mail
  imap.read_imap(url, password)    an IMAP folder, read-only -> Attachment
  message.compose(...)             one outgoing message (RFC 5322), attachment named for every mail client
  smtp.send_all(...)               the outbox through SMTP, logged in sent.csv, never sent twice
  feedback.write_feedback(...)     a unit's own issues and its return with the problem cells marked
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

VIETNAM = dt.timezone(dt.timedelta(hours=7))  # deadlines are set in Vietnam's time


@dataclass(frozen=True)
class Attachment:
    """One attached file of one received message, with what the receipt needs to know of the message."""

    name: str        # sanitised file name: NFC, no folder parts, never empty, never outside out/
    data: bytes
    received: str    # ISO time, naive, in Vietnam's time: the message's Date (IMAP INTERNALDATE, Zimbra's date)
    sender: str      # the From address, lower case ("" when absent)
    message_id: str  # Message-ID of the message the file is attached to, with its <> ("" when absent)
    subject: str     # decoded subject, NFC
    source: str      # where it was read, shown to people: "thu.mbox", "Maildir", "imaps://host/INBOX"
    key: str         # the outermost message: its Message-ID, or a hash of its bytes; the same message twice adds nothing


def local_iso(when: dt.datetime) -> str:
    """A message time as the receipts keep it: Vietnam's time, naive, to the second."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(VIETNAM).replace(tzinfo=None, microsecond=0).isoformat()
