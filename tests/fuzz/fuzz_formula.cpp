// libFuzzer target for the calibration formula parser and evaluator. A
// spattn::Error(SPATTN_ERR_FORMULA) with a printable one-line message is an
// expected rejection; anything else (another exception or status, a crash, a
// sanitizer report, a non-finite result) is a bug and aborts.
#include "core/error.hpp"
#include "formula/formula.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check_rejection(const spattn::Error& error) {
  if (error.status() != SPATTN_ERR_FORMULA) std::abort();
  std::string_view message = error.what();
  if (message.empty()) std::abort();
  for (char c : message) {
    if (c < 0x20 || c > 0x7E) std::abort();  // untrusted bytes must come out escaped
  }
}

void evaluate_at(const spattn::Formula& formula, const double (&values)[3]) {
  try {
    double result = formula.evaluate(values);
    if (!std::isfinite(result)) std::abort();
  } catch (const spattn::Error& error) {
    check_rejection(error);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    spattn::Formula formula = spattn::Formula::compile(text, {"target_sparsity", "a", "b"});
    if (formula.text() != text) std::abort();
    if (formula.used_variables().size() > 3) std::abort();
    evaluate_at(formula, {0.5, 1000.0, 5.0});
    evaluate_at(formula, {0.0, 1.0, 0.5});
    evaluate_at(formula, {1.0, -2.0, 1e300});
  } catch (const spattn::Error& error) {
    check_rejection(error);
  }
  return 0;
}
