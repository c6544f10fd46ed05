// JSON syntax errors point at the byte where the text stops being JSON:
// line and column counted by hand for each input below (columns from 1).
#include <gtest/gtest.h>
#include <spattn/spattn.h>

#include <string>

#include "kernel_check.hpp"

namespace {

struct BadJson {
  const char* name;
  const char* text;
  const char* where;  // "<string>:line:column: JSON syntax error" and what follows
};
KERNEL_CHECK_PRINT_BY_NAME(BadJson)

class JsonSyntaxPosition : public ::testing::TestWithParam<BadJson> {};

TEST_P(JsonSyntaxPosition, NamesTheCulpritsLineAndColumn) {
  const BadJson& c = GetParam();
  spattn_config* config = nullptr;
  const std::string text = c.text;
  EXPECT_EQ(spattn_config_parse(text.data(), text.size(), SPATTN_FORMAT_JSON, &config), SPATTN_ERR_SYNTAX);
  spattn_config_destroy(config);
  const std::string message = spattn_last_error();
  EXPECT_NE(message.find(std::string("<string>:") + c.where), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonSyntaxPosition,
    ::testing::Values(
        // The culprit of each: the byte where the text stops being JSON (the start of a bad token).
        BadJson{"trailing_comma_in_object", R"({"a": 1,})", "1:9: JSON syntax error"},
        BadJson{"trailing_comma_in_object_seed", R"({"sparse_attention_config": {"algorithm": "dsa",}})",
                "1:49: JSON syntax error"},
        BadJson{"trailing_comma_in_array", "[1, 2,]", "1:7: JSON syntax error"},
        BadJson{"missing_colon", R"({"a" 1})", "1:6: JSON syntax error"},
        BadJson{"misspelt_literal", R"({"a": tru})", "1:7: JSON syntax error"},  // the token that is no literal
        BadJson{"second_line", "{\"a\":\n  [1 2]}", "2:6: JSON syntax error"},
        BadJson{"bad_escape", R"({"a": "\q"})", "1:8: JSON syntax error"},  // the backslash
        BadJson{"trailing_garbage", R"({"a": 1} x)", "1:10: JSON syntax error"},
        BadJson{"unterminated_string", R"({"a": "x)", "1:9: JSON syntax error"},
        BadJson{"closing_first", "\n\n   }", "3:4: JSON syntax error"}),
    kernel_check::CaseName());

}  // namespace
