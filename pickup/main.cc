// pickup - takes locally submitted mail from maildrop/.
// Does:       each file postdrop left in maildrop/ goes through lib/cleanup
//             into incoming/ (pickup.h); then qmgr is woken.
// Talks to:   master (status and the wakeup of master.cf, every 60 s by
//             default), postdrop (notices on public/pickup, protocol
//             "pickup" of lib/queue/pickup_trigger.h), qmgr (wakeup notices).
// Runs as:    mail owner (master.cf unprivileged), one process
//             (`pickup unix n - n 60 1 pickup`); the spool is reached
//             relative to queue_directory, so it may run chrooted.
// Trusts:     nothing in maildrop/: every file is validated as hostile and a
//             bad one goes to corrupt/; who submitted a file is its owner as
//             fstat says. A notice carries no data: it only makes pickup scan.
#include <map>
#include <memory>

#include "lib/base/strings.h"
#include "lib/event/timer.h"
#include "lib/ipc/channel.h"
#include "lib/log/log.h"
#include "lib/queue/pickup_trigger.h"
#include "lib/service/service.h"
#include "pickup/pickup.h"

namespace {

using namespace posthorn;

// A notifier that connects and says nothing is dropped after this long.
constexpr std::chrono::seconds kNoticeTimeout{10};

struct Notifier {
  std::unique_ptr<ipc::Channel> channel;
  service::Job job;
};

struct State {
  pickup::Settings settings;
  queue::Spool spool{"."};  // the skeleton chdirs (or chroots) to queue_directory
  std::unique_ptr<event::Timer> scan_timer;
  std::map<ipc::Channel*, Notifier> notifiers;
};
std::unique_ptr<State> state;

void scan(service::Context& ctx) {
  service::Job busy = ctx.begin_job();
  auto r = pickup::scan_maildrop(state->spool, state->settings);
  if (!r) log::error("cannot scan maildrop/: ", r.error().detail);
}

// Wake-ups are coalesced: however many arrive, one scan runs from the loop.
void request_scan() {
  if (!state->scan_timer->pending()) state->scan_timer->start(std::chrono::milliseconds(0));
}

void on_accept(service::Context& ctx, event::Accepted a, service::Job job) {
  ipc::ChannelOptions o{queue::kPickupProtocol, 4096, kNoticeTimeout};
  auto ch = std::make_unique<ipc::Channel>(ctx.loop(), std::move(a.fd), o);
  ipc::Channel* key = ch.get();
  ch->on_frame([](ipc::Frame f) {
    if (f.kind == ipc::Kind::request && f.name == queue::Wakeup::kName)
      request_scan();
    else
      log::warn("public/pickup: unexpected message \"", printable(f.name), "\" ignored");
  });
  ch->on_close([key](const Error&) { state->notifiers.erase(key); });
  state->notifiers[key] = Notifier{std::move(ch), std::move(job)};
}

void post_drop(service::Context& ctx) {
  auto st = std::make_unique<State>();
  st->settings = pickup::settings_from_config(ctx.config());
  st->scan_timer = std::make_unique<event::Timer>(ctx.loop(), [&ctx] { scan(ctx); });
  state = std::move(st);
  request_scan();  // mail that arrived while pickup was not running
}

}  // namespace

int main(int argc, char** argv) {
  service::Program p;
  p.name = "pickup";
  p.idle_exit = false;  // woken by master and postdrop; stays
  p.post_drop = post_drop;
  p.on_accept = on_accept;
  p.on_wakeup = [](service::Context&) { request_scan(); };
  p.on_exit = [](service::Context&) { state.reset(); };
  return service::run(p, argc, argv);
}
