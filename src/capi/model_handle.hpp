// The opaque spattn_model handle: an immutable resolved Model.
#pragma once

#include <spattn/spattn.h>

#include "resolve/model.hpp"

struct spattn_model {
  spattn::Model model;
};
