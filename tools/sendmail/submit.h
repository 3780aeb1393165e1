// tools/sendmail/submit.h - handing one message to postdrop.
//
// Steps:
//   1. a trial run of lib/cleanup over the message, as pickup will run it
//      (local origin, -t extraction, the limits of main.cf): a message that
//      would be refused is refused now, with an exit code the caller sees,
//      and -t's recipients become envelope recipients (MAILDROP.md);
//   2. the stream: a queue file image (lib/queue/FORMAT.md) of the envelope
//      and the message as given;
//   3. postdrop (command_directory) reads it on its standard input and
//      prints the queue ID of the maildrop file it made durable.
// Exit codes follow sysexits.h as Postfix's sendmail: 65 for a message
// cleanup refuses, postdrop's own code when it fails, 69 when it cannot run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "lib/cleanup/cleanup.h"
#include "lib/queue/queue_file.h"

namespace posthorn::sendmail {

struct Submission {
  queue::Envelope env;    // sender and recipients as parsed; DSN fields; body type
  std::string full_name;  // for an added From: field
  bool extract = false;   // -t
  std::string content;    // the whole message
};

struct Outcome {
  int exit_code = 0;     // 0: queued
  std::string queue_id;  // the maildrop file's ID when queued
  std::string error;     // for the user when not queued ("" if postdrop said it)
  cleanup::Status status = cleanup::Status::ok;  // step 1's verdict
};

// Step 1 alone: the envelope as pickup will see it (recipients extracted and
// qualified), or the Outcome that refuses the message.
struct Trial {
  bool ok = false;
  queue::Envelope env;
  Outcome refusal;
};
Trial trial_cleanup(const cleanup::CleanupSettings& base, const Submission& s);

// Step 2 alone: the bytes postdrop reads.
Result<std::string> encode_stream(const queue::Envelope& env, const std::string& full_name,
                                  const std::string& content);

class Submitter {
 public:
  // `postdrop`: the program to run; `config_dir` is passed to it with -c.
  Submitter(cleanup::CleanupSettings base, std::filesystem::path postdrop,
            std::filesystem::path config_dir)
      : base_(std::move(base)), postdrop_(std::move(postdrop)), config_dir_(std::move(config_dir)) {}
  Outcome submit(const Submission& s) const;

 private:
  cleanup::CleanupSettings base_;
  std::filesystem::path postdrop_;
  std::filesystem::path config_dir_;
};

}  // namespace posthorn::sendmail
