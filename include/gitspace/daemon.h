/* The daemon's entry point: options, config, services, loop. */
#ifndef GITSPACE_DAEMON_H
#define GITSPACE_DAEMON_H

#include <stddef.h>

#include "gitspace/grpc.h"

/* Runs gitspace-orchestratord with `argc`/`argv` (borrowed). The built-in
 * services (health, Orchestrator) are always served; `extra` (borrowed,
 * `n_extra` entries, may be NULL) adds more, for test builds. Returns the
 * process exit code: 0 after a clean shutdown, 1 on a runtime error, 2 on a
 * usage or config error. */
int gs_daemon_main(int argc, char **argv, const gs_service *const *extra,
                   size_t n_extra);

#endif
