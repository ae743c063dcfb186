/* gitspace.testing.v1.Echo: a test-only service for the transport tests. */
#ifndef GITSPACE_TESTING_ECHO_SERVICE_H
#define GITSPACE_TESTING_ECHO_SERVICE_H

#include "gitspace/grpc.h"

/* The Echo service. It keeps its open calls in static state, so register it
 * with one server only. Handlers run on the call's loop. */
extern const gs_service gs_echo_service;

#endif
