// lib/queue/reader.cc - see reader.h.
#include "lib/queue/reader.h"

#include "lib/base/file.h"
#include "lib/base/strings.h"
#include "lib/log/log.h"

namespace posthorn::queue {

Result<QueueFile> read_queue_file(const std::filesystem::path& path, ReadOptions opts) {
  auto bytes = read_file(path, opts.max_bytes);
  if (!bytes) return std::move(bytes).error();
  auto qf = parse_queue_file(*bytes);
  if (!qf) {
    Error e = std::move(qf).error();
    e.detail = cat(path.string(), ": ", e.detail);
    return e;
  }
  if (qf->id.str() != path.filename().string())
    return make_error(Errc::corrupt, cat(path.string(), ": file name does not match queue ID ",
                                         qf->id.str()));
  return qf;
}

Result<void> quarantine(const Spool& spool, QueueName from, std::string_view name, const Error& why) {
  auto moved = move_file(spool, name, from, QueueName::corrupt);
  log::Record r{log::Level::warn, "corrupt", printable(name), {}, {}};
  if (moved)
    r.text = cat("damaged queue file moved from ", queue_dir_name(from), "/ to corrupt/: ", why.detail);
  else
    r.text = cat("damaged queue file in ", queue_dir_name(from), "/ could not be moved to corrupt/ (",
                 moved.error().detail, "): ", why.detail);
  log::emit(r);
  return moved;
}

Result<QueueFile> load_queue_file(const Spool& spool, QueueName queue, const QueueId& id,
                                  ReadOptions opts) {
  auto qf = read_queue_file(spool.file(queue, id), opts);
  if (!qf && qf.error().code == Errc::corrupt) {
    Error e = std::move(qf).error();
    (void)quarantine(spool, queue, id.str(), e);  // logged either way
    return e;
  }
  return qf;
}

}  // namespace posthorn::queue
