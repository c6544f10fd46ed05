// The opaque spattn_config handle: an immutable SparseConfig.
#pragma once

#include <spattn/spattn.h>

#include "config/sparse_config.hpp"

struct spattn_config {
  spattn::SparseConfig config;
};
