// A compiled formula: a postfix (RPN) program run on a small fixed stack.
#pragma once

#include "formula/operations.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace spattn::formula {

// Most values a program may hold on its stack at once. The depth limit keeps
// real programs far below it (a few values per nesting level); compile
// refuses any program that would need more.
constexpr std::size_t kMaxStack = 512;

struct Instruction {
  // JumpIfFalse pops a condition and, when it is false, continues at
  // `target`; Jump always does. They compile where(c, a, b) so that only the
  // chosen branch is evaluated (and only its steps must stay finite).
  enum class Kind : std::uint8_t { Number, Variable, Apply, JumpIfFalse, Jump };
  Kind kind;
  std::uint32_t column;            // 1-based, for messages
  double number;                   // Number
  std::uint32_t variable;          // Variable: index into the declared names; jumps: target
  const Operation* operation;      // Apply: pops arity values, pushes one
};

struct Program {
  std::vector<Instruction> code;
  std::size_t max_stack = 0;
  std::vector<bool> used;  // per declared variable
};

}  // namespace spattn::formula
