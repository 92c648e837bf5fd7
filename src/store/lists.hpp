#pragma once
// Inside the store: a list of strings (addresses) kept in one TEXT column as a JSON array, so
// an address may hold a comma and instr() on '"address"' matches it exactly.
#include <string>
#include <vector>

namespace sk::store {

std::string json_list(const std::vector<std::string>& v);
// Anything but an array of strings reads as the strings it holds (none for garbage).
std::vector<std::string> list_from_json(const std::string& s);

}  // namespace sk::store
