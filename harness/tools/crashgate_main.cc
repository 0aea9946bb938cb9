#include "crashgate/cli.h"

int main(int argc, char** argv) { return crashgate::crashgate_main(argc, argv); }
