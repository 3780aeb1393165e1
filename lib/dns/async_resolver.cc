// lib/dns/async_resolver.cc - Lookup handles over Exchange.
#include "lib/dns/async_resolver.h"

#include "lib/dns/exchange.h"

namespace posthorn::dns {

Lookup::Lookup() noexcept = default;
Lookup::Lookup(std::unique_ptr<Exchange> x) noexcept : x_(std::move(x)) {}
Lookup::Lookup(Lookup&&) noexcept = default;
Lookup& Lookup::operator=(Lookup&&) noexcept = default;
Lookup::~Lookup() = default;

bool Lookup::pending() const noexcept { return x_ && done_ && !*done_; }

void Lookup::cancel() noexcept { x_.reset(); }

AsyncResolver::AsyncResolver(event_base* base, Config config)
    : base_(base), config_(std::make_shared<const Config>(std::move(config))) {}

Lookup AsyncResolver::query(std::string_view name, RrType type, Callback cb) {
  auto done = std::make_shared<bool>(false);
  auto wrapped = [done, cb = std::move(cb)](Answer a) {
    *done = true;
    cb(std::move(a));
  };
  Lookup l(std::make_unique<Exchange>(base_, config_, std::string(name), type, std::move(wrapped)));
  l.done_ = std::move(done);
  l.x_->start();
  return l;
}

}  // namespace posthorn::dns
