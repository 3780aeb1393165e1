// lib/dns/ldns_owned.h - ldns included safely, with owning pointers for its objects.
//
// <ldns/common.h> defines bool, true and false as macros unless
// __bool_true_false_are_defined is set, which breaks C++ headers included
// after it (std::optional's operator<=>). <stdbool.h> sets that guard and,
// in C++, defines nothing else; so every use of ldns goes through here.
#pragma once

// clang-format off
#include <stdbool.h>  // must precede ldns, see above
#include <ldns/ldns.h>
// clang-format on

#include <cstdint>
#include <cstdlib>

#include "lib/base/fd.h"

namespace posthorn::dns {

using PktPtr = Owned<ldns_pkt, ldns_pkt_free>;
using RdfPtr = Owned<ldns_rdf, ldns_rdf_deep_free>;
using RrListPtr = Owned<ldns_rr_list, ldns_rr_list_deep_free>;
using CharPtr = Owned<char, ::free>;          // ldns_rdf2str() and friends
using WirePtr = Owned<std::uint8_t, ::free>;  // ldns_pkt2wire()

}  // namespace posthorn::dns
