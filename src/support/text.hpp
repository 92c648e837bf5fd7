#pragma once
// How the knowledge base reads a question: normalized words, their stems, and the
// features the matcher weighs. Pure; the stemmer is Xapian's English one, kept inside
// the adapter (xapian_index.cpp).
#include <string>
#include <string_view>
#include <vector>

namespace sk::support {

// Lower-case ASCII words of letters and digits; an apostrophe inside a word is dropped
// ("hasn't" → "hasnt"), any other character separates words. Non-ASCII bytes stay part of
// a word, so other languages still match themselves.
std::vector<std::string> words(std::string_view text);

// A (stemmed) word that says nothing about what is asked ("the", "how", "please").
bool is_stopword(std::string_view stemmed_word);

// The English (Porter2) stem of a lower-case word.
std::string stem(const std::string& word);

// The text of a customer's message worth matching: the subject's words and the body
// without quoted lines ("> ..."), the quoted-reply header before them ("On ... wrote:"),
// or the signature after "-- ".
std::string question_text(std::string_view subject, std::string_view body);

}  // namespace sk::support
