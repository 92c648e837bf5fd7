#include "phone/number.hpp"

#include <phonenumbers/phonenumberutil.h>

namespace sk::phone {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

std::string why_not(PhoneNumberUtil::ErrorType e) {
  switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return "no country code, or one that does not exist (write it as +CC…)";
    case PhoneNumberUtil::NOT_A_NUMBER:
      return "not a phone number";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return "too short";
    case PhoneNumberUtil::TOO_LONG_NSN:
      return "too long";
    default:
      return "not a phone number";
  }
}

}  // namespace

Result<std::string> to_e164(std::string_view written, std::string_view region) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  const std::string text(written);
  if (text.empty() || text.size() > 40)
    return make_error(Errc::invalid_input, "'" + text + "' is not a phone number");
  PhoneNumber number;
  auto e = util.Parse(text, std::string(region.empty() ? "ZZ" : region), &number);
  if (e != PhoneNumberUtil::NO_PARSING_ERROR)
    return make_error(Errc::invalid_input, "'" + text + "' is " + why_not(e));
  if (!util.IsValidNumber(number))
    return make_error(Errc::invalid_input,
                      "'" + text + "' is not a number that exists in its country's plan");
  std::string out;
  util.Format(number, PhoneNumberUtil::E164, &out);
  return out;
}

bool looks_like_number(std::string_view s) {
  std::size_t digits = 0;
  for (char c : s) {
    if (c >= '0' && c <= '9')
      ++digits;
    else if (c != '+' && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.')
      return false;
  }
  return digits >= 3;
}

std::string for_display(std::string_view e164) {
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  if (util.Parse(std::string(e164), "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR)
    return std::string(e164);
  std::string out;
  util.Format(number, PhoneNumberUtil::INTERNATIONAL, &out);
  return out;
}

}  // namespace sk::phone
