// The extensible-struct rule (spattn.h, "Conventions"; src/capi/struct_size.hpp):
// every struct-taking entry point accepts any struct_size from the struct's
// first published layout up, uses exactly the fields of the newest layout
// that fits, reads missing input fields as 0 and writes no output field the
// caller's struct lacks. Tested with truncated structs inside larger buffers
// whose extra bytes must stay untouched, with a caller from a newer header
// (a larger struct_size), and with a two-layout struct of the test's own.
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "attention_test_support.hpp"
#include "capi/struct_size.hpp"
#include "kernel_check.hpp"
#include "test_checkpoint_support.hpp"

// A struct with two published layouts: {a} first, then b and c appended.
struct DemoArgs {
  uint32_t struct_size;
  int32_t a;
  double b;
  int32_t c;
};

template <>
struct spattn::PublishedLayouts<DemoArgs> {
  static constexpr const char* kName = "DemoArgs";
  static constexpr size_t kEnds[] = {SPATTN_FIELD_END(DemoArgs, a), SPATTN_FIELD_END(DemoArgs, c)};
};

namespace {

constexpr unsigned char kFill = 0xA5;
constexpr size_t kExtra = 64;  // bytes after the struct in every buffer

// The end of each public struct's first published layout, written out here
// independently of struct_size.hpp: the last field of each struct as 0.1.0
// shipped it.
template <class T>
size_t first_layout();
template <>
size_t first_layout<spattn_skip_softmax_config>() {
  return offsetof(spattn_skip_softmax_config, quantize_p) + sizeof(int32_t);
}
template <>
size_t first_layout<spattn_rocket_config>() {
  return offsetof(spattn_rocket_config, seq_len_threshold) + sizeof(int32_t);
}
template <>
size_t first_layout<spattn_dsa_config>() {
  return offsetof(spattn_dsa_config, seq_len_threshold) + sizeof(int32_t);
}
template <>
size_t first_layout<spattn_layer_params>() {
  return offsetof(spattn_layer_params, quantize_p) + sizeof(int32_t);
}

// A caller's struct of `struct_size` bytes at the start of a larger buffer
// of kFill bytes.
template <class T>
struct CallerStruct {
  std::vector<unsigned char> bytes;
  explicit CallerStruct(size_t struct_size) : bytes(sizeof(T) + kExtra, kFill) {
    const uint32_t size = uint32_t(struct_size);
    std::memcpy(bytes.data(), &size, sizeof size);
  }
  T* get() { return reinterpret_cast<T*>(bytes.data()); }
  uint32_t struct_size() const {
    uint32_t size;
    std::memcpy(&size, bytes.data(), sizeof size);
    return size;
  }
  // Whether bytes [from, end of buffer) still hold kFill.
  bool untouched_from(size_t from) const {
    for (size_t i = from; i < bytes.size(); ++i)
      if (bytes[i] != kFill) return false;
    return true;
  }
};

// Calls `fill(T*)` with a full struct and with truncated / larger ones:
// a caller with the first layout gets the same field values and nothing
// past its struct written; a caller from a newer header (struct_size larger
// than the library's struct) gets everything and nothing past sizeof(T)
// written; a struct_size below the first layout is refused, naming the type.
template <class T, class Fill>
void expect_truncation_safe(Fill&& fill, const char* type_name) {
  SCOPED_TRACE(type_name);
  CallerStruct<T> full(sizeof(T));
  ASSERT_EQ(fill(full.get()), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(full.struct_size(), sizeof(T));

  const size_t first = first_layout<T>();
  CallerStruct<T> old(first);
  ASSERT_EQ(fill(old.get()), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(old.struct_size(), first) << "struct_size must keep the caller's value";
  EXPECT_EQ(0, std::memcmp(old.bytes.data() + 4, full.bytes.data() + 4, first - 4)) << "the fields differ";
  EXPECT_TRUE(old.untouched_from(first)) << "wrote past the caller's struct";

  CallerStruct<T> newer(sizeof(T) + 32);
  ASSERT_EQ(fill(newer.get()), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(0, std::memcmp(newer.bytes.data() + 4, full.bytes.data() + 4, first - 4));
  EXPECT_TRUE(newer.untouched_from(sizeof(T))) << "wrote past the library's own struct";

  CallerStruct<T> too_small(first - 4);
  EXPECT_EQ(fill(too_small.get()), SPATTN_ERR_INVALID_ARGUMENT);
  const std::string message = spattn_last_error();
  EXPECT_NE(message.find(std::string(type_name) + ".struct_size is " + std::to_string(first - 4) +
                         ", expected at least " + std::to_string(first)),
            std::string::npos)
      << message;
  EXPECT_TRUE(too_small.untouched_from(4)) << "wrote into a refused struct";
}

TEST(StructSize, ConfigAccessorsFillOnlyWhatFits) {
  auto skip = spattn_test::parse_config("algorithm: skip_softmax\nthreshold_scale_factor: 7\nn: 2\nm: 4\nquantize_p: true\n");
  auto rocket = spattn_test::parse_config("algorithm: rocket\nseq_len_threshold: 99\n");
  auto dsa = spattn_test::parse_config("algorithm: dsa\nindex_topk: 64\nseq_len_threshold: 5\n");
  expect_truncation_safe<spattn_skip_softmax_config>(
      [&](spattn_skip_softmax_config* out) { return spattn_config_skip_softmax(skip.get(), out); },
      "spattn_skip_softmax_config");
  expect_truncation_safe<spattn_rocket_config>(
      [&](spattn_rocket_config* out) { return spattn_config_rocket(rocket.get(), out); }, "spattn_rocket_config");
  expect_truncation_safe<spattn_dsa_config>([&](spattn_dsa_config* out) { return spattn_config_dsa(dsa.get(), out); },
                                            "spattn_dsa_config");
}

TEST(StructSize, ModelLookupFillsOnlyWhatFits) {
  auto model = spattn_test::open_model(spattn_test::wan_mini());
  ASSERT_TRUE(model);
  expect_truncation_safe<spattn_layer_params>(
      [&](spattn_layer_params* out) {
        return spattn_model_lookup(model.get(), "transformer", "blocks.0.attn1", SPATTN_PHASE_PREFILL, 0.5, out);
      },
      "spattn_layer_params");
}

// Input structs: spattn_attention_args of the first layout (no
// total_q/total_kv), with garbage after it, and a layer_params of its first
// layout, run exactly like full ones.
TEST(StructSize, AttentionArgumentsOfTheFirstLayoutRunUnchanged) {
  using namespace attention_test;
  Host h = make_host(shape(SPATTN_DTYPE_BFLOAT16, 64, 1, 2, 1, 70, 200, true));
  fill_peaked(h, 3, 6.0f);
  const spattn_layer_params lp_full = make_layer_params(make_extras(2, 4), 3.0);
  auto run = [&](size_t args_size, size_t lp_size, std::vector<uint16_t>& out) {
    out.assign(h.out_elems(), kernel_check::kPoison16);
    CallerStruct<spattn_layer_params> lp(lp_size);
    std::memcpy(lp.bytes.data() + 4, reinterpret_cast<const unsigned char*>(&lp_full) + 4,
                std::min(lp_size, sizeof lp_full) - 4);
    CallerStruct<spattn_attention_args> args(args_size);
    spattn_attention_args a = make_args(h, h.q.data(), h.k.data(), h.v.data(), out.data(), nullptr, nullptr);
    a.layer_params = lp.get();
    std::memcpy(args.bytes.data() + 4, reinterpret_cast<const unsigned char*>(&a) + 4,
                std::min(args_size, sizeof a) - 4);
    return spattn_attention_reference(args.get());
  };
  std::vector<uint16_t> full, first, newer, cut;
  ASSERT_EQ(run(sizeof(spattn_attention_args), sizeof(spattn_layer_params), full), SPATTN_OK) << spattn_last_error();
  const size_t args_first = offsetof(spattn_attention_args, tile_counters) + sizeof(void*);
  ASSERT_EQ(run(args_first, first_layout<spattn_layer_params>(), first), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(first, full);
  // A size that cuts through total_q counts as the first layout (0xA5 bytes
  // there would be an invalid total otherwise).
  ASSERT_EQ(run(args_first + 2, first_layout<spattn_layer_params>(), cut), SPATTN_OK) << spattn_last_error();
  EXPECT_EQ(cut, full);
  ASSERT_EQ(run(sizeof(spattn_attention_args) + 40, sizeof(spattn_layer_params) + 40, newer), SPATTN_OK)
      << spattn_last_error();
  EXPECT_EQ(newer, full);
  EXPECT_EQ(run(args_first - 8, sizeof(spattn_layer_params), cut), SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("spattn_attention_args.struct_size is"), std::string::npos);
  EXPECT_EQ(run(sizeof(spattn_attention_args), first_layout<spattn_layer_params>() - 4, cut),
            SPATTN_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(spattn_last_error()).find("args.layer_params: spattn_layer_params.struct_size is"),
            std::string::npos)
      << spattn_last_error();
}

// The helper itself, on a struct with two layouts.
TEST(StructSize, HelperUsesTheNewestLayoutThatFits) {
  const size_t v1 = SPATTN_FIELD_END(DemoArgs, a), v2 = SPATTN_FIELD_END(DemoArgs, c);
  CallerStruct<DemoArgs> in(v1);
  in.get()->a = 7;  // b and c hold 0xA5 bytes: not the caller's
  DemoArgs r = spattn::read_struct(in.get(), "f", "args");
  EXPECT_EQ(r.a, 7);
  EXPECT_EQ(r.b, 0.0);
  EXPECT_EQ(r.c, 0);
  const uint32_t cut = uint32_t(v1 + 4);  // through b: still the first layout
  std::memcpy(in.bytes.data(), &cut, sizeof cut);
  r = spattn::read_struct(in.get(), "f", "args");
  EXPECT_EQ(r.b, 0.0);
  const uint32_t big = uint32_t(sizeof(DemoArgs) + 16);
  std::memcpy(in.bytes.data(), &big, sizeof big);
  in.get()->b = 2.5;
  in.get()->c = 9;
  r = spattn::read_struct(in.get(), "f", "args");
  EXPECT_EQ(r.b, 2.5);
  EXPECT_EQ(r.c, 9);

  const DemoArgs value{uint32_t(sizeof(DemoArgs)), 1, 2.0, 3};
  CallerStruct<DemoArgs> out(v1);
  spattn::write_struct(out.get(), value, "f", "out");
  EXPECT_EQ(out.struct_size(), v1);
  EXPECT_EQ(out.get()->a, 1);
  EXPECT_TRUE(out.untouched_from(v1));
  CallerStruct<DemoArgs> out2(v2);
  spattn::write_struct(out2.get(), value, "f", "out");
  EXPECT_EQ(out2.get()->c, 3);
  EXPECT_TRUE(out2.untouched_from(v2));

  CallerStruct<DemoArgs> small(v1 - 1);
  try {
    spattn::write_struct(small.get(), value, "spattn_demo", "out");
    ADD_FAILURE() << "a struct below its first layout was accepted";
  } catch (const spattn::Error& e) {
    EXPECT_EQ(e.status(), SPATTN_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("spattn_demo: out: DemoArgs.struct_size is 7, expected at least 8"),
              std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(small.untouched_from(4));
}

}  // namespace
