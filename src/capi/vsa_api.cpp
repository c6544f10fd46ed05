// extern "C" entry points of Video Sparse Attention.
#include <spattn/spattn.h>

#include <string>

#include "attention/vsa_problem.hpp"
#include "attention/vsa_reference.hpp"
#include "capi/guard.hpp"
#include "capi/struct_size.hpp"
#include "core/error.hpp"

#if SPATTN_HAVE_CUDA
#include "attention/vsa_cuda.hpp"
#endif

extern "C" {

spattn_status spattn_vsa_get_geometry(const spattn_vsa_args* args, spattn_vsa_geometry* out) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_vsa_get_geometry";
    const spattn::attention::vsa::Problem p = spattn::attention::vsa::resolve_shape(args, kFunction);
    spattn::require_arg(out, kFunction, "out");
    spattn::require_struct(out, kFunction, "out");
    spattn_vsa_geometry g{};
    for (int a = 0; a < 3; ++a) g.cubes[a] = p.geo.cubes[a];
    g.num_cubes = p.geo.num_cubes;
    g.cube_volume = p.geo.volume;
    g.kept_cubes = p.geo.kept;
    g.padded_tokens = p.geo.padded_tokens;
    spattn::write_struct(out, g, kFunction, "out");
  });
}

spattn_status spattn_vsa_workspace_size(const spattn_vsa_args* args, size_t* out_size) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_vsa_workspace_size";
    const spattn::attention::vsa::Problem p = spattn::attention::vsa::resolve_shape(args, kFunction);
    spattn::require_arg(out_size, kFunction, "out_size");
    *out_size = spattn::attention::vsa::workspace_layout(p).total;
  });
}

spattn_status spattn_vsa_forward(const spattn_vsa_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_vsa_forward";
    const spattn::attention::vsa::Problem p = spattn::attention::vsa::resolve_problem(args, kFunction, true);
#if SPATTN_HAVE_CUDA
    spattn::attention::vsa::launch_forward_cuda(p, stream, kFunction);
#else
    (void)p;
    (void)stream;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_vsa_reference(const spattn_vsa_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_vsa_reference";
    spattn::attention::vsa::reference_forward(spattn::attention::vsa::resolve_problem(args, kFunction, false));
  });
}

spattn_status spattn_vsa_relayout(const spattn_vsa_layout_args* args, void* stream) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_vsa_relayout";
    const spattn::attention::vsa::Relayout r = spattn::attention::vsa::resolve_relayout(args, kFunction, true);
#if SPATTN_HAVE_CUDA
    spattn::attention::vsa::launch_relayout_cuda(r, stream, kFunction);
#else
    (void)r;
    (void)stream;
    spattn::fail_without_cuda(kFunction);
#endif
  });
}

spattn_status spattn_vsa_relayout_reference(const spattn_vsa_layout_args* args) {
  return spattn::guarded([&] {
    static const char* const kFunction = "spattn_vsa_relayout_reference";
    spattn::attention::vsa::reference_relayout(spattn::attention::vsa::resolve_relayout(args, kFunction, false));
  });
}

}  // extern "C"
