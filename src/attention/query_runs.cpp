// Host-side reading of cu_seqlens_q for the index-sparse CPU references.
#include "attention/query_runs.hpp"

#include <string>

#include "core/error.hpp"

namespace spattn::attention {

std::vector<QueryRun> query_runs(const int32_t* cu, int32_t batch, int32_t seqlen_q, const char* function) {
  std::vector<QueryRun> runs(static_cast<size_t>(batch));
  for (int32_t b = 0; b < batch; ++b) {
    if (cu == nullptr) {
      runs[size_t(b)].lq = seqlen_q;
      continue;
    }
    const int32_t q0 = cu[b], q1 = cu[b + 1];
    if ((b == 0 && q0 != 0) || q1 < q0 || q1 - q0 > seqlen_q) {
      fail(SPATTN_ERR_INVALID_ARGUMENT, std::string(function) + ": args.cu_seqlens_q[" + std::to_string(b) +
                                            "] .. [" + std::to_string(b + 1) + "] are " + std::to_string(q0) +
                                            " .. " + std::to_string(q1) +
                                            "; offsets must start at 0, not decrease, and give lengths <= "
                                            "args.seqlen_q (" + std::to_string(seqlen_q) + ")");
    }
    runs[size_t(b)] = QueryRun{q0, q1 - q0};
  }
  return runs;
}

}  // namespace spattn::attention
