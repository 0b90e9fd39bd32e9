#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  using namespace geosteer::app;
  CommandLine cl;
  if (!parse_command_line(argc, argv, cl, std::cerr)) {
    print_command_usage(cl.command, std::cerr);  // the general text for an unknown one
    return 2;
  }
  if (cl.help || cl.command == "help") {
    print_command_usage(cl.command, std::cout);
    return 0;
  }
  if (cl.command == "version") {
    std::cout << "geosteer " << GEOSTEER_VERSION << "\n";
    return 0;
  }
  if (cl.command == "check") return run_check(cl, std::cout, std::cerr);
  if (cl.command == "locate") return run_locate(cl, std::cout, std::cerr);
  if (cl.command == "probe") return run_probe(cl, std::cout, std::cerr);
  if (cl.command == "ctl") return run_ctl(cl, std::cout, std::cerr);
  return run_serve(cl, std::cerr);
}
