#include "formula/parser.hpp"

#include "formula/messages.hpp"
#include "formula/tokenizer.hpp"

#include <spattn/spattn.h>

#include <algorithm>

namespace spattn::formula {

namespace {

std::string at_column(const Token& token) { return " at column " + std::to_string(token.column); }

// "'x'" for a token, "the end of the formula" for End.
std::string describe(const Token& token) {
  if (token.kind == TokenKind::End) return "the end of the formula";
  return "'" + quote(token.text) + "'";
}

class Parser {
 public:
  Parser(std::string_view formula, const std::vector<std::string>& names)
      : formula_(formula), names_(names) {
    program_.used.assign(names.size(), false);
  }

  Program run() {
    tokens_ = tokenize(formula_);
    if (current().kind == TokenKind::End) error("the formula is empty");
    if (expression() == ValueType::Bool) {
      error("it gives true or false, not a number; use where(condition, a, b)");
    }
    if (current().kind == TokenKind::RightParen) {
      error("unmatched ')'" + at_column(current()));
    }
    if (current().kind != TokenKind::End) {
      error("unexpected " + describe(current()) + at_column(current()) +
            " after a complete expression");
    }
    return std::move(program_);
  }

 private:
  // One level of nesting for as long as it lives.
  class Nesting {
   public:
    Nesting(Parser& parser, const Token& token) : parser_(parser) {
      if (++parser_.depth_ > SPATTN_MAX_FORMULA_DEPTH) {
        parser_.error("nested deeper than " + std::to_string(SPATTN_MAX_FORMULA_DEPTH) +
                      " levels" + at_column(token) +
                      " (parentheses, calls, unary signs and '**' each count; "
                      "SPATTN_MAX_FORMULA_DEPTH)");
      }
    }
    ~Nesting() { --parser_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    Parser& parser_;
  };

  [[noreturn]] void error(const std::string& what) const { formula_error(formula_, what); }

  const Token& current() const { return tokens_[pos_]; }
  const Token& advance() { return tokens_[pos_++]; }
  bool at(TokenKind kind) const { return current().kind == kind; }

  // Comparison level (the lowest, as in Python and numexpr); one
  // comparison at most: numexpr refuses chained ones.
  ValueType expression() {
    ValueType left = or_expression();
    if (!is_comparison(current().kind)) return left;
    const Token& op = advance();
    require_number(left, op);
    require_number(or_expression(), op);
    emit_apply(binary_operator(op.text), op);
    if (is_comparison(current().kind)) {
      error("chained comparison at column " + std::to_string(current().column) +
            " (numexpr refuses them): write (a < b) & (b < c)");
    }
    return ValueType::Bool;
  }

  ValueType or_expression() { return logical(TokenKind::Or, &Parser::and_expression); }
  ValueType and_expression() { return logical(TokenKind::And, &Parser::arithmetic); }

  ValueType logical(TokenKind kind, ValueType (Parser::*operand)()) {
    ValueType left = (this->*operand)();
    while (at(kind)) {
      const Token& op = advance();
      require_bool(left, op);
      require_bool((this->*operand)(), op);
      emit_apply(binary_operator(op.text), op);
      left = ValueType::Bool;
    }
    return left;
  }

  ValueType arithmetic() {
    ValueType left = term();
    while (at(TokenKind::Plus) || at(TokenKind::Minus)) {
      const Token& op = advance();
      require_number(left, op);
      require_number(term(), op);
      emit_apply(binary_operator(op.text), op);
    }
    return left;
  }

  ValueType term() {
    ValueType left = unary();
    while (at(TokenKind::Star) || at(TokenKind::Slash) || at(TokenKind::Percent)) {
      const Token& op = advance();
      require_number(left, op);
      require_number(unary(), op);
      emit_apply(binary_operator(op.text), op);
    }
    return left;
  }

  ValueType unary() {
    if (!at(TokenKind::Plus) && !at(TokenKind::Minus) && !at(TokenKind::Not)) return power();
    const Token& sign = advance();
    Nesting nesting(*this, sign);
    ValueType operand = unary();
    if (sign.kind == TokenKind::Not) {
      require_bool(operand, sign);
      emit_apply(logical_not(), sign);
      return ValueType::Bool;
    }
    require_number(operand, sign);
    if (sign.kind == TokenKind::Minus) emit_apply(negation(), sign);
    return ValueType::Number;
  }

  ValueType power() {
    ValueType base = primary();
    if (!at(TokenKind::Power)) return base;
    const Token& op = advance();
    Nesting nesting(*this, op);
    require_number(base, op);
    require_number(unary(), op);
    emit_apply(binary_operator(op.text), op);
    return ValueType::Number;
  }

  ValueType primary() {
    const Token& token = current();
    switch (token.kind) {
      case TokenKind::Number:
        advance();
        emit(Instruction{Instruction::Kind::Number, token.column, token.number, 0, nullptr});
        return ValueType::Number;
      case TokenKind::Name:
        advance();
        if (!at(TokenKind::LeftParen)) {
          variable(token);
          return ValueType::Number;
        }
        if (token.text == "where") {
          where(token);
        } else {
          call(token);
        }
        return ValueType::Number;
      case TokenKind::LeftParen: {
        advance();
        Nesting nesting(*this, token);
        ValueType type = expression();
        close(token, "to close '('");
        return type;
      }
      default:
        error("expected a number, a name or '('" + at_column(token) + ", found " +
              describe(token));
    }
  }

  static bool is_comparison(TokenKind kind) {
    return kind == TokenKind::Less || kind == TokenKind::LessEqual || kind == TokenKind::Greater ||
           kind == TokenKind::GreaterEqual || kind == TokenKind::Equal || kind == TokenKind::NotEqual;
  }

  void require_number(ValueType type, const Token& op) const {
    if (type == ValueType::Number) return;
    error("'" + std::string(op.text) + "'" + at_column(op) +
          " takes numbers; a comparison gives true or false, not a number (use where(condition, a, b))");
  }

  void require_bool(ValueType type, const Token& op) const {
    if (type == ValueType::Bool) return;
    error("'" + std::string(op.text) + "'" + at_column(op) +
          " takes comparisons, such as (target_sparsity > 0.5); numexpr reads it between numbers as a "
          "bitwise operation on integers");
  }

  // where(condition, a, b): a when the condition holds, else b. Compiled
  // with jumps, so that only the chosen branch is evaluated.
  void where(const Token& name) {
    Nesting nesting(*this, name);
    const Token& open = advance();
    if (expression() != ValueType::Bool) {
      error("the first argument of 'where'" + at_column(name) + " must be a comparison, such as (target_sparsity > 0.5)");
    }
    const std::size_t jump_if_false = program_.code.size();
    emit_jump(Instruction::Kind::JumpIfFalse, name);
    expect_comma(name);
    require_number(expression(), name);
    const std::size_t jump = program_.code.size();
    emit_jump(Instruction::Kind::Jump, name);
    --stack_;  // the other branch starts from the same stack
    program_.code[jump_if_false].variable = static_cast<std::uint32_t>(program_.code.size());
    expect_comma(name);
    require_number(expression(), name);
    program_.code[jump].variable = static_cast<std::uint32_t>(program_.code.size());
    if (at(TokenKind::Comma)) error("'where'" + at_column(name) + " takes exactly 3 arguments");
    close(open, "or ',' in the call to 'where'");
  }

  void expect_comma(const Token& name) {
    if (at(TokenKind::Comma)) {
      advance();
      return;
    }
    if (at(TokenKind::RightParen)) error("'where'" + at_column(name) + " takes exactly 3 arguments");
    error("expected ',' in the call to 'where'" + at_column(current()) + ", found " + describe(current()));
  }

  void emit_jump(Instruction::Kind kind, const Token& token) {
    if (kind == Instruction::Kind::JumpIfFalse) --stack_;  // pops the condition
    program_.code.push_back(Instruction{kind, token.column, 0, 0, nullptr});
  }

  void call(const Token& name) {
    const Operation* function = find_function(name.text);
    if (function == nullptr) {
      error("unknown function '" + quote(name.text) + "'" + at_column(name) +
            "; known: " + function_names() + ", where");
    }
    Nesting nesting(*this, name);
    const Token& open = advance();
    int count = 0;
    if (!at(TokenKind::RightParen)) {
      require_number(expression(), name);
      ++count;
      while (at(TokenKind::Comma)) {
        advance();
        require_number(expression(), name);
        ++count;
      }
    }
    close(open, "or ',' in the call to '" + std::string(function->name) + "'");
    if (count != function->arity) {
      error("'" + std::string(function->name) + "'" + at_column(name) + " takes exactly " +
            std::to_string(function->arity) +
            (function->arity == 1 ? " argument" : " arguments") + ", got " +
            std::to_string(count));
    }
    emit_apply(*function, name);
  }

  // Consumes the ')' matching `open`.
  void close(const Token& open, const std::string& role) {
    if (at(TokenKind::RightParen)) {
      advance();
      return;
    }
    if (at(TokenKind::End)) error("'('" + at_column(open) + " is never closed");
    error("expected ')' " + role + at_column(current()) + ", found " + describe(current()));
  }

  void variable(const Token& name) {
    auto found = std::find(names_.begin(), names_.end(), name.text);
    if (found == names_.end()) unknown_name(name);
    auto index = static_cast<std::size_t>(found - names_.begin());
    program_.used[index] = true;
    emit(Instruction{Instruction::Kind::Variable, name.column, 0,
                     static_cast<std::uint32_t>(index), nullptr});
  }

  [[noreturn]] void unknown_name(const Token& name) const {
    std::vector<std::string> known = names_;
    std::sort(known.begin(), known.end());
    std::string list;
    for (const std::string& known_name : known) {
      list += (list.empty() ? "" : ", ") + quote(known_name);
    }
    std::string what = "unknown name '" + quote(name.text) + "'" + at_column(name) +
                       (list.empty() ? "; no variables are declared" : "; known: " + list);
    if (find_function(name.text) != nullptr) {
      what += " ('" + std::string(name.text) + "' is a function: call it with parentheses)";
    }
    error(what);
  }

  void emit_apply(const Operation& operation, const Token& token) {
    emit(Instruction{Instruction::Kind::Apply, token.column, 0, 0, &operation});
  }

  // Appends one instruction and tracks how many values the stack holds.
  void emit(const Instruction& instruction) {
    if (instruction.kind == Instruction::Kind::Apply) {
      stack_ -= static_cast<std::size_t>(instruction.operation->arity) - 1;
    } else if (++stack_ > kMaxStack) {
      error("too complex" + std::string(" at column ") + std::to_string(instruction.column) +
            ": it would hold more than " + std::to_string(kMaxStack) + " values at once");
    }
    program_.max_stack = std::max(program_.max_stack, stack_);
    program_.code.push_back(instruction);
  }

  std::string_view formula_;
  const std::vector<std::string>& names_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  std::size_t stack_ = 0;
  Program program_;
};

}  // namespace

Program parse(std::string_view formula, const std::vector<std::string>& variable_names) {
  return Parser(formula, variable_names).run();
}

}  // namespace spattn::formula
