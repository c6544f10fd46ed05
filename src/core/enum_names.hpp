// The one vocabulary for enum values in JSON, the CLI and messages: each
// value is spelled as the lowercase suffix of its C constant
// (SPATTN_DISABLED_IGNORED -> "ignored", SPATTN_SOURCE_FORMULA -> "formula").
// The library's JSON and the `spattn` tool both take their names from here.
#pragma once

#include <spattn/spattn.h>

namespace spattn {

// Static names; nullptr for a value outside the enum.
const char* algorithm_name(spattn_algorithm algorithm);
const char* phase_name(spattn_phase phase);
const char* source_name(spattn_source source);
const char* disabled_reason_name(spattn_disabled_reason reason);
const char* phase_key_name(spattn_phase_key key);
const char* kt_cache_dtype_name(spattn_kt_cache_dtype dtype);
const char* indexer_k_dtype_name(spattn_indexer_k_dtype dtype);

}  // namespace spattn
