/* gitspace-orchestratord-test: the real daemon plus the Echo test service. */
#include "gitspace/daemon.h"

#include "echo_service.h"

int main(int argc, char **argv) {
  static const gs_service *const services[] = {&gs_echo_service};

  return gs_daemon_main(argc, argv, services, 1);
}
