// Boost.Asio, its SSL layer and Beast are compiled once, here: CMakeLists.txt sets
// BOOST_ASIO_SEPARATE_COMPILATION and BOOST_BEAST_SEPARATE_COMPILATION for every file,
// so the others see declarations instead of compiling the libraries' non-template
// code again each (about a fifth of the build time of an Asio-heavy file).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
