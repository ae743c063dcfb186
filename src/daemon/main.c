/* The gitspace-orchestratord program. */
#include "gitspace/daemon.h"

int main(int argc, char **argv) {
  return gs_daemon_main(argc, argv, NULL, 0);
}
