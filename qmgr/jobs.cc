// qmgr/jobs.cc - see jobs.h.
#include "qmgr/jobs.h"

#include <map>
#include <utility>

namespace posthorn::qmgr {

std::vector<JobPlan> group_jobs(const std::vector<Routed>& routed,
                                const std::function<unsigned(std::string_view)>& recipient_limit) {
  std::vector<JobPlan> out;
  // Index in `out` of the open (not yet full) job of each destination.
  std::map<std::pair<std::string_view, std::string_view>, std::size_t> open;
  for (const Routed& r : routed) {
    auto key = std::make_pair(std::string_view(r.transport), std::string_view(r.nexthop));
    auto it = open.find(key);
    const unsigned limit = recipient_limit(r.transport);
    if (it == open.end() || (limit != 0 && out[it->second].units.size() >= limit)) {
      out.push_back(JobPlan{r.transport, r.nexthop, {}});
      // The key views point into `routed`, which outlives this map.
      it = open.insert_or_assign(key, out.size() - 1).first;
    }
    out[it->second].units.push_back(r.unit);
  }
  return out;
}

std::vector<const deliver::RcptResult*> match_results(const std::vector<deliver::Rcpt>& sent,
                                                      const std::vector<deliver::RcptResult>& results) {
  std::vector<const deliver::RcptResult*> out(sent.size(), nullptr);
  // Deliveries of each index not yet taken, in request order.
  std::multimap<std::uint32_t, std::size_t> free;
  for (std::size_t i = 0; i < sent.size(); ++i) free.emplace(sent[i].index, i);
  for (const deliver::RcptResult& r : results) {
    auto it = free.find(r.index);  // multimap keeps insertion order among equal keys
    if (it == free.end()) continue;
    out[it->second] = &r;
    free.erase(it);
  }
  return out;
}

}  // namespace posthorn::qmgr
