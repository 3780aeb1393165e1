// Helpers shared by the lib/queue tests: a scratch directory and sample messages.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "lib/queue/queue_file.h"
#include "t/unit/support/temp_dir.h"

namespace posthorn::queue::test {

using ScratchDir = posthorn::test::TempDir;

// An envelope that uses every field.
inline Envelope sample_envelope(std::size_t recipients = 3) {
  Envelope e;
  e.sender = "alice@example.org";
  for (std::size_t i = 0; i < recipients; ++i) {
    Recipient r;
    r.address = "rcpt" + std::to_string(i) + "@example.net";
    if (i % 2 == 1) r.original = "alias" + std::to_string(i) + "@example.net";
    if (i % 3 == 0) r.orcpt = "rfc822;orig" + std::to_string(i) + "@example.net";
    r.notify = i % 3 == 0 ? (kNotifySuccess | kNotifyFailure) : i % 3 == 1 ? kNotifyNever : 0;
    e.recipients.push_back(r);
  }
  e.arrival_us = 1763805600123456;
  e.client = {"mail.example.org", "192.0.2.7", "mail.example.org", "ESMTPSA", "alice"};
  e.ret = DsnRet::hdrs;
  e.envid = "QQ314159";
  e.body_type = BodyType::eight_bit_mime;
  e.smtputf8 = true;
  return e;
}

inline QueueFile sample_file(std::size_t recipients = 3) {
  QueueFile qf;
  qf.id = QueueId(1763805600123456, 4242);
  qf.env = sample_envelope(recipients);
  qf.headers = "From: alice@example.org\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\n";
  static const char kBody[] = "binary:\0 bare CR\r bare LF\n 8-bit \xff\xfe\r\n.\r\nend";
  qf.body.assign(kBody, sizeof kBody - 1);
  return qf;
}

}  // namespace posthorn::queue::test
