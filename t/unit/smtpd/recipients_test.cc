// Which recipients exist (smtpd/recipients.h), from main.cf settings with
// inline: tables.
#include "smtpd/recipients.h"

#include <catch2/catch.hpp>

#include "lib/config/config.h"

using namespace posthorn;
using namespace posthorn::smtpd;
using C = resolve::AddressClass;

namespace {

RecipientDirectory directory(std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<std::pair<std::string, std::string>> o = {
      {"myhostname", "mx.example.org"},
      {"mydestination", "example.org"},
      {"inet_interfaces", "127.0.0.1"},
      {"recipient_delimiter", "+"},
      {"alias_maps", ""},
      {"local_recipient_maps", "inline:{alice=x}"},
      {"virtual_mailbox_domains", "virtual.test"},
      {"virtual_mailbox_maps", "inline:{bob@virtual.test=bob/}"},
      {"virtual_alias_domains", "alias.test"},
      {"virtual_alias_maps", "inline:{info@alias.test=alice@example.org, dora=alice}"},
      {"relay_domains", "relay.test"},
      {"relay_recipient_maps", "inline:{carol@relay.test=x}"},
  };
  for (auto& e : extra) o.push_back(std::move(e));
  auto cfg = config::Config().with_overrides(o);
  REQUIRE(cfg);
  auto d = RecipientDirectory::from_config(*cfg);
  REQUIRE(d);
  return std::move(*d);
}

std::string unknown(const RecipientDirectory& d, std::string_view address) {
  const std::size_t at = address.rfind('@');
  auto cls = d.classify(at == std::string_view::npos ? "" : address.substr(at + 1));
  REQUIRE(cls);
  auto r = d.unknown(address, *cls);
  REQUIRE(r);
  return r->value_or("known");
}

}  // namespace

TEST_CASE("recipients by address class", "[smtpd][recipients]") {
  const RecipientDirectory d = directory();
  CHECK(unknown(d, "alice@example.org") == "known");
  CHECK(unknown(d, "alice+list@example.org") == "known");
  CHECK(unknown(d, "ALICE@Example.ORG") == "known");
  CHECK(unknown(d, "postmaster@example.org") == "known");
  CHECK(unknown(d, "dora@example.org") == "known");  // a virtual alias for a local user form
  CHECK(unknown(d, "nobody@example.org") == "local recipient");
  CHECK(unknown(d, "bob@virtual.test") == "known");
  CHECK(unknown(d, "dora@virtual.test") == "virtual mailbox");  // bare forms are local only
  CHECK(unknown(d, "nobody@virtual.test") == "virtual mailbox");
  CHECK(unknown(d, "info@alias.test") == "known");
  CHECK(unknown(d, "nobody@alias.test") == "virtual alias");
  CHECK(unknown(d, "carol@relay.test") == "known");
  CHECK(unknown(d, "nobody@relay.test") == "relay recipient");
  CHECK(unknown(d, "anyone@elsewhere.test") == "known");  // not ours: relaying decides
}

TEST_CASE("empty maps accept every user; broken ones are errors", "[smtpd][recipients]") {
  const RecipientDirectory open = directory({{"local_recipient_maps", ""}, {"relay_recipient_maps", ""}});
  CHECK(unknown(open, "nobody@example.org") == "known");
  CHECK(unknown(open, "nobody@relay.test") == "known");
  const RecipientDirectory broken = directory({{"local_recipient_maps", "texthash:/nonexistent/users"}});
  REQUIRE(broken.warnings().size() == 1);
  CHECK(broken.warnings()[0].starts_with("local_recipient_maps: texthash:/nonexistent/users is unavailable"));
  auto r = broken.unknown("nobody@example.org", C::local);
  REQUIRE_FALSE(r);
  CHECK(r.error().detail.find("local_recipient_maps") != std::string::npos);
  // postmaster needs no table.
  CHECK(broken.unknown("postmaster@example.org", C::local).value() == std::nullopt);
}
