// The calibration formula evaluator (src/formula/): grammar, functions,
// limits, every error message, and concurrent evaluation.
#include "core/error.hpp"
#include "formula/formula.hpp"
#include "formula/parser.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using spattn::Formula;

const std::vector<std::string> kCheckpointNames = {"target_sparsity", "a", "b"};

double eval(const std::string& text, const std::vector<std::string>& names = {},
            const std::vector<double>& values = {}) {
  return Formula::compile(text, names).evaluate(values);
}

// The message of the spattn::Error `action` throws; fails the test if it
// throws nothing or another status.
std::string error_of(const std::function<void()>& action,
                     spattn_status expected = SPATTN_ERR_FORMULA) {
  try {
    action();
  } catch (const spattn::Error& error) {
    EXPECT_EQ(error.status(), expected) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "no spattn::Error thrown";
  return "";
}

std::string compile_error(const std::string& text,
                          const std::vector<std::string>& names = kCheckpointNames) {
  return error_of([&] { Formula::compile(text, names); });
}

std::string eval_error(const std::string& text, const std::vector<std::string>& names,
                       const std::vector<double>& values) {
  Formula formula = Formula::compile(text, names);
  return error_of([&] { formula.evaluate(values); });
}

std::string repeat(const std::string& piece, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += piece;
  return out;
}

#define EXPECT_CONTAINS(haystack, needle)                                        \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)              \
      << "message: " << (haystack) << "\nexpected to contain: " << (needle)

// ---------------------------------------------------------------- grammar --

struct Case {
  const char* text;
  double expected;
};

TEST(Formula, PrecedenceAndAssociativity) {
  const Case cases[] = {
      {"1 + 2 * 3", 7},          {"(1 + 2) * 3", 9},       {"10 - 4 - 3", 3},
      {"1 - 2 + 3", 2},          {"100 / 10 / 5", 2},      {"6 / 3 * 2", 4},
      {"2 * 3 / 4", 1.5},        {"2 ** 3 ** 2", 512},     {"(2 ** 3) ** 2", 64},
      {"-2 ** 2", -4},           {"(-2) ** 2", 4},         {"2 ** -1", 0.5},
      {"2 ** -2 ** 2", 0.0625},  {"-2 ** -2", -0.25},      {"2 ** 3 ** 0", 2},
      {"--3", 3},                {"-+-3", 3},              {"+3", 3},
      {"2 * -3", -6},            {"2 - -3", 5},            {"3 * 2 ** 2", 12},
      {"2 ** 2 * 3", 12},        {"8 / 2 ** 2", 2},        {"-3 ** 2 * 2", -18},
      {"4 ** 0.5", 2},           {"-(1 + 2) * 3", -9},     {"pow(2, 3) ** 2", 64},
      {"max(1, 2) * min(3, 4)", 6}, {"2**3", 8},           {"1-1", 0},
      {"((((7))))", 7},          {" \t1\n+\r\n2 ", 3},     {"-2 ** 2 ** 0.5 * 0", -0.0},
  };
  for (const Case& c : cases) {
    EXPECT_DOUBLE_EQ(eval(c.text), c.expected) << c.text;
  }
}

TEST(Formula, Numbers) {
  const Case cases[] = {
      {"12", 12},     {"1.5", 1.5},     {".5", 0.5},       {"5.", 5},
      {"1e-3", 1e-3}, {"1E3", 1000},    {"2.5e+2", 250},   {".5e1", 5},
      {"5.e-1", 0.5}, {"007", 7},       {"0", 0},          {"1e308", 1e308},
      {"123456789.125", 123456789.125},
  };
  for (const Case& c : cases) {
    EXPECT_DOUBLE_EQ(eval(c.text), c.expected) << c.text;
  }
}

TEST(Formula, MalformedNumbers) {
  EXPECT_CONTAINS(compile_error("1e"), "malformed number '1e' at column 1");
  EXPECT_CONTAINS(compile_error("2 * 1e+"), "malformed number '1e+' at column 5");
  EXPECT_CONTAINS(compile_error("1.2.3"), "malformed number '1.2.' at column 1");
  EXPECT_CONTAINS(compile_error("2a"), "malformed number '2a' at column 1");
  EXPECT_CONTAINS(compile_error("1e5e5"), "malformed number '1e5e' at column 1");
  EXPECT_CONTAINS(compile_error("1e999"), "number '1e999' at column 1 is out of the range");
  EXPECT_CONTAINS(compile_error("."), "unexpected character '.' at column 1");
}

TEST(Formula, FunctionsMatchCmath) {
  struct FunctionCase {
    const char* text;
    double expected;
  };
  const FunctionCase cases[] = {
      {"exp(0.7)", std::exp(0.7)},          {"log(2.5)", std::log(2.5)},
      {"log10(250)", std::log10(250.0)},    {"log1p(1e-10)", std::log1p(1e-10)},
      {"expm1(1e-10)", std::expm1(1e-10)},  {"sqrt(2)", std::sqrt(2.0)},
      {"pow(1.5, 2.5)", std::pow(1.5, 2.5)}, {"abs(-3.25)", 3.25},
      {"min(2, -1)", -1},                   {"max(2, -1)", 2},
      {"sin(0.3)", std::sin(0.3)},          {"cos(0.3)", std::cos(0.3)},
      {"tan(0.3)", std::tan(0.3)},          {"arcsin(0.3)", std::asin(0.3)},
      {"arccos(0.3)", std::acos(0.3)},      {"arctan(3)", std::atan(3.0)},
      {"arctan2(1, -2)", std::atan2(1.0, -2.0)}, {"sinh(0.3)", std::sinh(0.3)},
      {"cosh(0.3)", std::cosh(0.3)},        {"tanh(0.3)", std::tanh(0.3)},
      {"arcsinh(2)", std::asinh(2.0)},      {"arccosh(2)", std::acosh(2.0)},
      {"arctanh(0.5)", std::atanh(0.5)},    {"floor(-2.5)", -3},
      {"ceil(-2.5)", -2},                   {"floor(2.5)", 2},
      {"ceil(2.5)", 3},
  };
  for (const FunctionCase& c : cases) {
    // DOUBLE_EQ: the compiler may fold the expected value at build time.
    EXPECT_DOUBLE_EQ(eval(c.text), c.expected) << c.text;
  }
}

TEST(Formula, SeedsCalibrationFormula) {
  Formula formula = Formula::compile("a * exp(b * target_sparsity)", kCheckpointNames);
  EXPECT_DOUBLE_EQ(formula.evaluate({0.5, 1000.0, 5.0}), 1000.0 * std::exp(2.5));
  EXPECT_DOUBLE_EQ(formula.evaluate({0.0, 1000.0, 5.0}), 1000.0);
  EXPECT_EQ(formula.text(), "a * exp(b * target_sparsity)");
  EXPECT_EQ(formula.used_variables(), kCheckpointNames);
  EXPECT_EQ(formula.variable_names(), kCheckpointNames);
  const double values[] = {0.9, 1000.0, 5.0};
  EXPECT_DOUBLE_EQ(formula.evaluate(values), 1000.0 * std::exp(4.5));
}

TEST(Formula, UsedVariablesInDeclaredOrder) {
  EXPECT_EQ(Formula::compile("2 * a", kCheckpointNames).used_variables(),
            std::vector<std::string>{"a"});
  EXPECT_EQ(Formula::compile("b + target_sparsity + b", kCheckpointNames).used_variables(),
            (std::vector<std::string>{"target_sparsity", "b"}));
  EXPECT_TRUE(Formula::compile("42", kCheckpointNames).used_variables().empty());
}

TEST(Formula, VariableMayShareAFunctionName) {
  EXPECT_DOUBLE_EQ(eval("exp * exp(0)", {"exp"}, {3}), 3);
}

TEST(Formula, CopiesEvaluateIndependently) {
  Formula original = Formula::compile("a / 2", {"a"});
  Formula copy = original;
  EXPECT_DOUBLE_EQ(copy.evaluate({4}), 2);
  EXPECT_DOUBLE_EQ(original.evaluate({6}), 3);
}

TEST(Formula, DeepButAllowedStack) {
  // Each level is one call and one '**' (2 of the 64 depth levels) and keeps
  // several values pending on the stack.
  std::function<std::string(int)> level = [&](int k) -> std::string {
    return k == 0 ? "1" : "max(1, 1 + 1 * 1 ** " + level(k - 1) + ")";
  };
  EXPECT_DOUBLE_EQ(eval(level(32)), 2);
}

// ------------------------------------------------------------ name errors --

TEST(FormulaErrors, UnknownName) {
  std::string message = compile_error("a * c");
  EXPECT_CONTAINS(message, "formula 'a * c'");
  EXPECT_CONTAINS(message, "unknown name 'c' at column 5; known: a, b, target_sparsity");
  EXPECT_CONTAINS(compile_error("x", {}), "unknown name 'x' at column 1; no variables");
  EXPECT_CONTAINS(compile_error("exp"), "'exp' is a function");
}

TEST(FormulaErrors, UnknownFunction) {
  std::string message = compile_error("2 * foo(1)");
  EXPECT_CONTAINS(message, "unknown function 'foo' at column 5");
  EXPECT_CONTAINS(message, "known: abs, arccos,");
  EXPECT_CONTAINS(message, "tan, tanh, where");
  EXPECT_CONTAINS(compile_error("a(1)"), "unknown function 'a' at column 1");
}

TEST(FormulaErrors, Arity) {
  EXPECT_CONTAINS(compile_error("min(1)"), "'min' at column 1 takes exactly 2 arguments, got 1");
  EXPECT_CONTAINS(compile_error("max(1, 2, 3)"), "'max' at column 1 takes exactly 2 arguments, got 3");
  EXPECT_CONTAINS(compile_error("1 + exp(1, 2)"), "'exp' at column 5 takes exactly 1 argument, got 2");
  EXPECT_CONTAINS(compile_error("exp()"), "'exp' at column 1 takes exactly 1 argument, got 0");
  EXPECT_CONTAINS(compile_error("pow(2)"), "'pow' at column 1 takes exactly 2 arguments, got 1");
  EXPECT_CONTAINS(compile_error("arctan2(1)"), "'arctan2' at column 1 takes exactly 2 arguments");
}

TEST(FormulaErrors, CaretIsNotPower) {
  std::string message = compile_error("a ^ 2");
  EXPECT_CONTAINS(message, "'^' at column 3");
  EXPECT_CONTAINS(message, "xor");
  EXPECT_CONTAINS(message, "'**'");
}

TEST(FormulaErrors, BadVariableNames) {
  EXPECT_CONTAINS(compile_error("1", {"a b"}), "variable name 'a b' is not an identifier");
  EXPECT_CONTAINS(compile_error("1", {""}), "variable name '' is not an identifier");
  EXPECT_CONTAINS(compile_error("1", {"1a"}), "variable name '1a' is not an identifier");
  EXPECT_CONTAINS(compile_error("1", {"a", "b", "a"}), "variable 'a' is declared twice");
}

// ------------------------------------ numexpr's comparisons, where and % --

// Hand-computed values; numexpr gives the same for these real-valued formulas.
TEST(FormulaNumexpr, ModuloHasTheSignOfTheDivisor) {
  EXPECT_EQ(eval("7 % 3"), 1);
  EXPECT_EQ(eval("-7 % 3"), 2);    // numexpr: x - floor(x / y) * y, not C's fmod (-1)
  EXPECT_EQ(eval("7 % -3"), -2);
  EXPECT_EQ(eval("5.5 % 2"), 1.5);
  EXPECT_EQ(eval("2 * 7 % 4"), 2);  // same precedence as '*', left to right: (2 * 7) % 4
  EXPECT_EQ(eval("2 ** 3 % 5"), 3);
  EXPECT_CONTAINS(eval_error("1 % a", {"a"}, {0}), "gives nan (modulo by zero at column 3) for a=0");
}

TEST(FormulaNumexpr, ComparisonsAndWhere) {
  const std::vector<std::string> names = {"target_sparsity"};
  const std::string piecewise = "where(target_sparsity < 0.5, 100 * target_sparsity, 1000 * target_sparsity)";
  EXPECT_DOUBLE_EQ(eval(piecewise, names, {0.25}), 25);
  EXPECT_DOUBLE_EQ(eval(piecewise, names, {0.5}), 500);  // 0.5 < 0.5 is false
  struct {
    const char* op;
    double expected[3];  // for 1 op 2, 2 op 2, 3 op 2
  } cases[] = {{"<", {1, 0, 0}}, {"<=", {1, 1, 0}}, {">", {0, 0, 1}},
               {">=", {0, 1, 1}}, {"==", {0, 1, 0}}, {"!=", {1, 0, 1}}};
  for (const auto& c : cases) {
    for (int x = 1; x <= 3; ++x) {
      std::string text = "where(a " + std::string(c.op) + " 2, 1, 0)";
      EXPECT_EQ(eval(text, {"a"}, {double(x)}), c.expected[x - 1]) << text << " a=" << x;
    }
  }
  // & | ~ combine comparisons; comparisons bind looser than arithmetic.
  EXPECT_EQ(eval("where((a > 1) & (a < 3), 1, 0)", {"a"}, {2}), 1);
  EXPECT_EQ(eval("where((a > 1) & (a < 3), 1, 0)", {"a"}, {3}), 0);
  EXPECT_EQ(eval("where((a < 1) | (a > 2), 1, 0)", {"a"}, {3}), 1);
  EXPECT_EQ(eval("where(~(a > 2), 1, 0)", {"a"}, {3}), 0);
  EXPECT_EQ(eval("where(a + 1 > 2 * a, 1, 0)", {"a"}, {0.5}), 1);
  EXPECT_EQ(eval("where(a > 0, where(a > 1, 2, 1), 0)", {"a"}, {1.5}), 2);
  EXPECT_EQ(eval("1 + where(a > 0, 2, 3) * 4", {"a"}, {-1}), 13);
}

TEST(FormulaNumexpr, OnlyTheChosenBranchOfWhereIsEvaluated) {
  // numexpr computes both branches; a result is only refused when the
  // branch it takes is not finite, as spattn does.
  EXPECT_EQ(eval("where(a > 0, log(a), 0)", {"a"}, {0}), 0);
  EXPECT_EQ(eval("where(a > 0, 0, exp(1000))", {"a"}, {1}), 0);
  EXPECT_CONTAINS(eval_error("where(a > 0, 0, exp(1000))", {"a"}, {0}), "overflow in 'exp'");
}

TEST(FormulaNumexpr, TruthValuesAndNumbersDoNotMix) {
  EXPECT_CONTAINS(compile_error("target_sparsity > 0.5"),
                  "it gives true or false, not a number; use where(condition, a, b)");
  EXPECT_CONTAINS(compile_error("(a > 1) * 2"), "'*' at column 9 takes numbers; a comparison gives true or false");
  EXPECT_CONTAINS(compile_error("exp(a > 1)"), "'exp' at column 1 takes numbers");
  EXPECT_CONTAINS(compile_error("-(a > 1)"), "'-' at column 1 takes numbers");
  EXPECT_CONTAINS(compile_error("where(a > 1, a < 2, 3)"), "'where' at column 1 takes numbers");
  EXPECT_CONTAINS(compile_error("a & b"), "'&' at column 3 takes comparisons");
  EXPECT_CONTAINS(compile_error("where(a | (b > 1), 1, 2)"), "'|' at column 9 takes comparisons");
  EXPECT_CONTAINS(compile_error("~a"), "'~' at column 1 takes comparisons");
  EXPECT_CONTAINS(compile_error("where(a, 1, 2)"), "the first argument of 'where' at column 1 must be a comparison");
  EXPECT_CONTAINS(compile_error("where(a > 1, 2)"), "'where' at column 1 takes exactly 3 arguments");
  EXPECT_CONTAINS(compile_error("where(a > 1, 2, 3, 4)"), "'where' at column 1 takes exactly 3 arguments");
  // numexpr refuses chained comparisons; so does spattn.
  EXPECT_CONTAINS(compile_error("where(0 < a < 1, 1, 2)"), "chained comparison at column 13");
}

// ------------------------------------------------------ evaluation errors --

TEST(FormulaErrors, DivisionByZeroNamesFormulaAndValues) {
  EXPECT_EQ(eval_error("a / (b - target_sparsity)", kCheckpointNames, {0.5, 1, 0.5}),
            "formula 'a / (b - target_sparsity)' gives inf (division by zero at column 3) "
            "for target_sparsity=0.5, a=1, b=0.5");
  EXPECT_EQ(eval_error("0 / 0", {}, {}), "formula '0 / 0' gives nan (division by zero at column 3)");
  EXPECT_CONTAINS(eval_error("-1 / a", {"a"}, {0}), "gives -inf (division by zero at column 4) for a=0");
}

TEST(FormulaErrors, DomainErrors) {
  EXPECT_CONTAINS(eval_error("log(a)", {"a"}, {0}), "gives -inf (log of zero at column 1) for a=0");
  EXPECT_CONTAINS(eval_error("log(a)", {"a"}, {-1}), "gives nan (log of a negative number at column 1)");
  EXPECT_CONTAINS(eval_error("1 + sqrt(-1)", {}, {}), "gives nan (sqrt of a negative number at column 5)");
  EXPECT_CONTAINS(eval_error("log10(0)", {}, {}), "log10 of zero");
  EXPECT_CONTAINS(eval_error("log1p(-1)", {}, {}), "log1p of -1");
  EXPECT_CONTAINS(eval_error("log1p(-2)", {}, {}), "log1p of a number below -1");
  EXPECT_CONTAINS(eval_error("arcsin(2)", {}, {}), "arcsin of a number outside [-1, 1]");
  EXPECT_CONTAINS(eval_error("arccos(-2)", {}, {}), "arccos of a number outside [-1, 1]");
  EXPECT_CONTAINS(eval_error("arccosh(0)", {}, {}), "arccosh of a number below 1");
  EXPECT_CONTAINS(eval_error("arctanh(1)", {}, {}), "gives inf (arctanh of -1 or 1");
  EXPECT_CONTAINS(eval_error("0 ** -1", {}, {}), "gives inf (zero to a negative power at column 3)");
  EXPECT_CONTAINS(eval_error("pow(-8, 1 / 3)", {}, {}), "negative base to a fractional power at column 1");
}

TEST(FormulaErrors, Overflow) {
  EXPECT_EQ(eval_error("exp(b)", {"b"}, {1000}),
            "formula 'exp(b)' gives inf (overflow in 'exp' at column 1) for b=1000");
  EXPECT_CONTAINS(eval_error("1e308 * 10", {}, {}), "gives inf (overflow in '*' at column 7)");
  EXPECT_CONTAINS(eval_error("-1e308 - 1e308", {}, {}), "gives -inf (overflow in '-' at column 8)");
  EXPECT_CONTAINS(eval_error("10 ** 400", {}, {}), "overflow in '**' at column 4");
  EXPECT_CONTAINS(eval_error("cosh(1000)", {}, {}), "overflow in 'cosh'");
  // An intermediate overflow is an error even when the final value is finite.
  EXPECT_CONTAINS(eval_error("min(exp(1000), 1)", {}, {}), "overflow in 'exp' at column 5");
  EXPECT_CONTAINS(eval_error("1 / exp(1000)", {}, {}), "overflow in 'exp'");
}

TEST(FormulaErrors, NonFiniteInput) {
  Formula formula = Formula::compile("a * exp(b * target_sparsity)", kCheckpointNames);
  std::string message = error_of([&] { formula.evaluate({0.5, NAN, 5}); });
  EXPECT_CONTAINS(message, "cannot use a=nan (column 1)");
  EXPECT_CONTAINS(message, "for target_sparsity=0.5, a=nan, b=5");
  EXPECT_CONTAINS(error_of([&] { formula.evaluate({-INFINITY, 1, 5}); }),
                  "cannot use target_sparsity=-inf");
  // An unused variable may be anything.
  EXPECT_DOUBLE_EQ(eval("2 * a", {"a", "b"}, {3, NAN}), 6);
}

TEST(FormulaErrors, WrongValueCount) {
  Formula formula = Formula::compile("a", {"a", "b"});
  EXPECT_CONTAINS(error_of([&] { formula.evaluate({1}); }, SPATTN_ERR_INVALID_ARGUMENT),
                  "takes 2 values, got 1");
}

// ---------------------------------------------------------- syntax errors --

TEST(FormulaErrors, Empty) {
  EXPECT_EQ(compile_error(""), "formula '': the formula is empty");
  EXPECT_CONTAINS(compile_error(" \t\n"), "the formula is empty");
}

TEST(FormulaErrors, TrailingGarbage) {
  EXPECT_CONTAINS(compile_error("1 2"), "unexpected '2' at column 3 after a complete expression");
  EXPECT_CONTAINS(compile_error("a b"), "unexpected 'b' at column 3 after a complete expression");
  EXPECT_CONTAINS(compile_error("a * 2,"), "unexpected ',' at column 6");
  EXPECT_CONTAINS(compile_error("1 = 1"), "'=' at column 3 is not an operator; write '==' to compare");
  EXPECT_CONTAINS(compile_error("!a"), "'!' at column 1 is not an operator; write '~' for not, '!=' to compare");
  EXPECT_CONTAINS(compile_error("1 << 2"), "expected a number, a name or '(' at column 4, found '<'");
}

TEST(FormulaErrors, MissingOperand) {
  EXPECT_CONTAINS(compile_error("1 +"), "expected a number, a name or '(' at column 4, found the end of the formula");
  EXPECT_CONTAINS(compile_error("*2"), "expected a number, a name or '(' at column 1, found '*'");
  EXPECT_CONTAINS(compile_error("max(1,)"), "at column 7, found ')'");
  EXPECT_CONTAINS(compile_error("2 // 3"), "at column 4, found '/'");
  EXPECT_CONTAINS(compile_error("()"), "at column 2, found ')'");
}

TEST(FormulaErrors, UnbalancedParentheses) {
  EXPECT_CONTAINS(compile_error("(1 + 2"), "'(' at column 1 is never closed");
  EXPECT_CONTAINS(compile_error("2 * exp(1"), "'(' at column 8 is never closed");
  EXPECT_CONTAINS(compile_error("(1 + 2))"), "unmatched ')' at column 8");
  EXPECT_CONTAINS(compile_error(")"), "found ')'");
  EXPECT_CONTAINS(compile_error("(1 2)"), "expected ')' to close '(' at column 4, found '2'");
  EXPECT_CONTAINS(compile_error("max(1 2)"), "expected ')' or ',' in the call to 'max' at column 7");
}

TEST(FormulaErrors, NonAscii) {
  std::string message = compile_error("a * \xC3\xA9");
  EXPECT_CONTAINS(message, "non-ASCII byte 0xC3 at column 5");
  EXPECT_CONTAINS(message, "formula 'a * \\xC3\\xA9'");  // quoted escaped
  EXPECT_CONTAINS(compile_error("1\x01"), "control byte 0x01 at column 2");
  EXPECT_CONTAINS(compile_error(std::string("1\0", 2)), "control byte 0x00 at column 2");
}

// ----------------------------------------------------------------- limits --

TEST(FormulaLimits, Length) {
  std::string longest = "1" + std::string(SPATTN_MAX_FORMULA_BYTES - 1, ' ');
  EXPECT_DOUBLE_EQ(eval(longest), 1);
  std::string message = compile_error(longest + " ");
  EXPECT_CONTAINS(message, "4097 bytes long; the limit is 4096 (SPATTN_MAX_FORMULA_BYTES)");
  EXPECT_LT(message.size(), 400u);  // the quote is shortened
  EXPECT_CONTAINS(compile_error(std::string(100000, '(')), "100000 bytes long");
  EXPECT_CONTAINS(compile_error(std::string(100000, '-') + "1"), "100001 bytes long");
}

TEST(FormulaLimits, DepthOfEachKind) {
  const int limit = SPATTN_MAX_FORMULA_DEPTH;
  struct Nest {
    std::string open, middle, close;
    double value;
  };
  const Nest nests[] = {
      {"(", "1", ")", 1},
      {"-", "1", "", 1},        // an even count of minus signs
      {"abs(", "1", ")", 1},
      {"1 ** ", "1", "", 1},    // right-associative chain
      {"+", "2", "", 2},
  };
  for (const Nest& nest : nests) {
    std::string ok = repeat(nest.open, limit) + nest.middle + repeat(nest.close, limit);
    EXPECT_DOUBLE_EQ(eval(ok), nest.value) << ok;
    std::string deep = repeat(nest.open, limit + 1) + nest.middle + repeat(nest.close, limit + 1);
    std::string message = compile_error(deep);
    EXPECT_CONTAINS(message, "nested deeper than 64 levels at column");
    EXPECT_CONTAINS(message, "SPATTN_MAX_FORMULA_DEPTH");
  }
  EXPECT_CONTAINS(compile_error(repeat("(", 65) + "1" + repeat(")", 65)),
                  "nested deeper than 64 levels at column 65");
}

TEST(FormulaLimits, ParserDoesNotRecurseUnboundedly) {
  // Straight to the parser, past the length check: 100k openers must stop at
  // the depth limit instead of exhausting the stack.
  for (const std::string& text : {std::string(100000, '('), std::string(100000, '-') + "1",
                                  repeat("exp(", 100000), repeat("2**", 100000) + "2"}) {
    std::string message = error_of([&] { spattn::formula::parse(text, {}); });
    EXPECT_CONTAINS(message, "nested deeper than 64 levels");
  }
}

// -------------------------------------------------------------- threading --

TEST(FormulaThreads, EvaluateFromEightThreads) {
  const Formula formula = Formula::compile("a * exp(b * target_sparsity)", kCheckpointNames);
  std::atomic<int> mismatches{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        double target = (t * 20000 + i) % 1000 / 1000.0;  // 0 .. 0.999
        if (formula.evaluate({target, 1000.0, 5.0}) != 1000.0 * std::exp(5.0 * target)) {
          ++mismatches;
        }
        if (i % 1000 == 0) {
          try {
            formula.evaluate({0.5, 1.0, 1e6});  // overflows: each thread throws too
          } catch (const spattn::Error&) {
            ++errors;
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(errors.load(), 8 * 20);
}

}  // namespace
